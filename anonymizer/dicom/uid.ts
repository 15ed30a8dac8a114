/** PS3.5 §9.1: dot-separated numbers without leading zeros, at most 64 characters. */
export function isUID(value: string): boolean {
  return value.length <= 64 && /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/.test(value);
}
