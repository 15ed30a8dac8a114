/** Inputs for storage tests: synthetic, de-identified-looking instances with fresh UIDs. */
import { randomBytes } from 'node:crypto';
import type { StoreInstanceInput } from '../../storage/index.js';

/** A fresh UID under the 2.25 (UUID-derived) root. */
export function uid(): string {
  return `2.25.${BigInt('0x' + randomBytes(16).toString('hex')).toString()}`;
}

/** A study with `series` series of `perSeries` instance inputs each. */
export function studyInputs(series = 1, perSeries = 3, base: Partial<StoreInstanceInput> = {}): StoreInstanceInput[] {
  const studyInstanceUID = base.studyInstanceUID ?? uid();
  const out: StoreInstanceInput[] = [];
  for (let s = 0; s < series; s++) {
    const seriesInstanceUID = uid();
    for (let i = 0; i < perSeries; i++) out.push(instanceInput({ ...base, studyInstanceUID, seriesInstanceUID, seriesNumber: s + 1, instanceNumber: i + 1 }));
  }
  return out;
}

/** One instance input; bytes are random (stand-ins for a de-identified Part 10 file). */
export function instanceInput(overrides: Partial<StoreInstanceInput> = {}): StoreInstanceInput {
  return {
    studyInstanceUID: uid(),
    seriesInstanceUID: uid(),
    sopInstanceUID: uid(),
    sopClassUID: '1.2.840.10008.5.1.4.1.1.2',
    transferSyntaxUID: '1.2.840.10008.1.2.1',
    bytes: randomBytes(2048),
    linkage: { PatientName: 'Doe^Jane', PatientID: 'ID-0001', originalSOPInstanceUID: '1.2.3.4' },
    route: 'default',
    stableSeconds: 10,
    retentionDays: 30,
    modality: 'CT',
    attributes: { StudyDate: '20240101', PatientID: 'PSEUDO-1' },
    ...overrides,
  };
}

/** A clock tests move by hand. */
export function manualClock(start = Date.parse('2025-03-01T10:00:00Z')): { now: () => Date; advance(seconds: number): void; set(ms: number): void } {
  let t = start;
  return {
    now: () => new Date(t),
    advance: (seconds) => {
      t += seconds * 1000;
    },
    set: (ms) => {
      t = ms;
    },
  };
}

/** Resolves to the error a promise rejected with, or fails when it resolved. */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string; path?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection, but the promise resolved');
}
