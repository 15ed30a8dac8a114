import { z } from 'zod';

/** PS3.5 AE VR: at most 16 characters. */
export const AE_TITLE_MAX_LENGTH = 16;

/**
 * Why `value` is not a valid Application Entity title (PS3.5 §6.2, VR AE), or undefined when
 * it is: 1–16 characters of the default repertoire, no backslash, no control characters, not
 * only spaces. Leading and trailing spaces are not significant.
 */
export function aeTitleProblem(value: string): string | undefined {
  if (value.length > AE_TITLE_MAX_LENGTH) {
    return `an AE title has at most ${AE_TITLE_MAX_LENGTH} characters (this one has ${value.length})`;
  }
  if (value.trim() === '') return 'an AE title cannot be empty or only spaces';
  if (value.includes('\\')) return 'an AE title cannot contain a backslash';
  // The default repertoire (ISO 646) without control characters: printable ASCII only.
  if (!/^[\x20-\x7e]*$/.test(value)) {
    return 'an AE title may hold printable ASCII characters only (no control or non-ASCII characters)';
  }
  return undefined;
}

/** An AE title with its insignificant leading and trailing spaces removed, for comparison. */
export function normalizeAETitle(value: string): string {
  return value.replace(/^ +| +$/g, '');
}

/** A validated AE title, trimmed of leading and trailing spaces. */
export const aeTitleSchema = z
  .string()
  .superRefine((value, ctx) => {
    const problem = aeTitleProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform(normalizeAETitle);
