/**
 * An A-ASSOCIATE-RJ a peer sent, in PS3.8's words (§9.3.4, Table 9-21), for the messages of an
 * SCU: "rejected-permanent by the service-user: called-AE-title-not-recognized", not three numbers.
 */
import type { RejectFields } from './rejection.js';

const SOURCES: Record<number, { name: string; reasons: Record<number, string> }> = {
  1: {
    name: 'the service-user',
    reasons: { 1: 'no-reason-given', 2: 'application-context-name-not-supported', 3: 'calling-AE-title-not-recognized', 7: 'called-AE-title-not-recognized' },
  },
  2: { name: 'the service-provider (ACSE)', reasons: { 1: 'no-reason-given', 2: 'protocol-version-not-supported' } },
  3: { name: 'the service-provider (presentation)', reasons: { 1: 'temporary-congestion', 2: 'local-limit-exceeded' } },
};

/** One line naming result, source and reason; numbers the table does not define are given as numbers. */
export function describeRejection(fields: { result: number; source: number; reason: number }): string {
  const result = fields.result === 1 ? 'rejected-permanent' : fields.result === 2 ? 'rejected-transient' : `result ${fields.result}`;
  const source = SOURCES[fields.source];
  const reason = source?.reasons[fields.reason] ?? `reason ${fields.reason}`;
  return `${result} by ${source?.name ?? `source ${fields.source}`}: ${reason}`;
}

/** True for a rejection PS3.8 calls permanent: the same request would be refused again. */
export function isPermanentRejection(fields: Pick<RejectFields, 'result'> | { result: number }): boolean {
  return fields.result === 1;
}
