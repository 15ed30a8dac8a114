/**
 * Errors of the DIMSE module, as data: a stable code, the path of the offending option
 * when there is one, and a message.
 */
export type DimseErrorCode = 'invalid-options' | 'listen-failed' | 'already-started' | 'association-failed';

export interface DimseIssue {
  path: string;
  message: string;
}

export class DimseError extends Error {
  override readonly name = 'DimseError';
  constructor(
    readonly code: DimseErrorCode,
    message: string,
    readonly issues: readonly DimseIssue[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** An AE title (VR AE): 1–16 characters of the default repertoire, no backslash, not blank. */
export function aeTitleIssue(path: string, value: string): DimseIssue | undefined {
  const trimmed = value.trim();
  if (trimmed.length === 0 || value.length > 16 || /[^\x20-\x7e]|\\/.test(value)) {
    return { path, message: 'must be 1-16 printable ASCII characters without a backslash' };
  }
  return undefined;
}
