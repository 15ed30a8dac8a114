/** New UIDs for what Limen creates: 2.25 and a random UUID as a decimal (PS3.5 §B.2). */
import { randomUUID } from 'node:crypto';

export function randomUID(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString(10)}`;
}
