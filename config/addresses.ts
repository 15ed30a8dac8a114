import { BlockList, isIP } from 'node:net';
import { z } from 'zod';

/**
 * Network addresses in the configuration: a remote AE's allowed source addresses (an IP or a
 * CIDR block) and the hosts Limen binds to. Matching goes through Node's BlockList, which
 * compares IPv6 forms canonically and matches IPv4-mapped IPv6 peers (`::ffff:10.0.0.5`)
 * against IPv4 entries, as sockets report them on dual-stack listeners.
 */

/** An allowed source address: one IP (`10.1.2.3`, `fd00::7`) or a CIDR block (`10.1.2.0/24`). */
export function parseAddressEntry(
  value: string,
): { address: string; prefix?: number; family: 'ipv4' | 'ipv6' } | undefined {
  const [address, prefixText, ...rest] = value.trim().split('/');
  if (rest.length > 0 || address === undefined) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const family = version === 4 ? 'ipv4' : 'ipv6';
  if (prefixText === undefined) return { address, family };
  if (!/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address, prefix, family };
}

/** An allowed source address entry, trimmed. */
export const addressEntrySchema = z
  .string()
  .refine((value) => parseAddressEntry(value) !== undefined, {
    message: 'not an IP address or CIDR block (e.g. 10.1.2.3, 10.1.2.0/24, fd00::/8)',
  })
  .transform((value) => value.trim());

/** True when `remoteAddress` (as a socket reports it) matches one of the entries. */
export function addressAllowed(entries: readonly string[], remoteAddress: string): boolean {
  const version = isIP(remoteAddress);
  if (version === 0) return false;
  const list = new BlockList();
  for (const entry of entries) {
    const parsed = parseAddressEntry(entry);
    if (parsed === undefined) continue;
    if (parsed.prefix === undefined) list.addAddress(parsed.address, parsed.family);
    else list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  return list.check(remoteAddress, version === 4 ? 'ipv4' : 'ipv6');
}

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

/**
 * True when binding `host` exposes the listener to this machine only. A name other than
 * `localhost` counts as not loopback: it cannot be known without a lookup, so the stricter
 * rules apply.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase();
  if (h === 'localhost') return true;
  const bare = h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
  return addressAllowed(LOOPBACK, bare);
}

/**
 * A host to bind: an IP address or a DNS name. Digits and dots only is meant as an IPv4 address
 * (a name's last label is never all digits, RFC 3696 §2): 999.1.1.1 is refused here, not at listen.
 */
export const hostSchema = z
  .string()
  .refine(
    (value) =>
      isIP(value) !== 0 ||
      (!/^[\d.]+$/.test(value) &&
        /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/.test(value)),
    { message: 'not an IP address or host name' },
  );

/** A TCP port, 1–65535. */
export const portSchema = z.number().int().min(1).max(65535);
