/**
 * The PEM files a configuration names (TLS certificates, keys, CAs): read, and checked the way
 * OpenSSL will use them. Start, each send and `limen config check` go through here, so they
 * refuse the same files in the same words, each naming its setting (`dimse.tls.privateKeyFile`).
 */
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import type { DimseDestinationTlsConfig } from './destination.js';
import type { DimseTlsConfig } from './dimse.js';
import type { HttpTlsConfig } from './http.js';
import type { LimenConfig } from './schema.js';

/** PEM files that cannot be read, or certificates and keys that cannot serve together: each problem names its setting. */
export class PemFileError extends Error {
  override readonly name = 'PemFileError';
  constructor(readonly problems: readonly string[]) {
    super(problems.join('; '));
  }
}

export interface DimseTlsPem {
  port: number;
  certificate: Buffer;
  privateKey: Buffer;
  callerCa?: Buffer;
  callerCrl?: Buffer;
}

export interface HttpTlsPem {
  certificate: Buffer;
  privateKey: Buffer;
}

export interface DestinationTlsPem {
  ca?: Buffer;
  certificate?: Buffer;
  privateKey?: Buffer;
}

export async function readDimseTlsPem(tls: DimseTlsConfig, section = 'dimse.tls'): Promise<DimseTlsPem> {
  const pem = await readPem(section, { certificateFile: tls.certificateFile, privateKeyFile: tls.privateKeyFile, callerCaFile: tls.callerCaFile, callerCrlFile: tls.callerCrlFile });
  checkSecureContext(section, { cert: pem.certificateFile, key: pem.privateKeyFile, ca: pem.callerCaFile, crl: pem.callerCrlFile });
  return {
    port: tls.port,
    certificate: pem.certificateFile!,
    privateKey: pem.privateKeyFile!,
    ...(pem.callerCaFile && { callerCa: pem.callerCaFile }),
    ...(pem.callerCrlFile && { callerCrl: pem.callerCrlFile }),
  };
}

export async function readHttpTlsPem(tls: HttpTlsConfig, section = 'http.tls'): Promise<HttpTlsPem> {
  const pem = await readPem(section, { certificateFile: tls.certificateFile, privateKeyFile: tls.privateKeyFile });
  checkSecureContext(section, { cert: pem.certificateFile, key: pem.privateKeyFile });
  return { certificate: pem.certificateFile!, privateKey: pem.privateKeyFile! };
}

export async function readDestinationTlsPem(tls: DimseDestinationTlsConfig, section: string): Promise<DestinationTlsPem> {
  const pem = await readPem(section, { caFile: tls.caFile, certificateFile: tls.certificateFile, privateKeyFile: tls.privateKeyFile });
  checkSecureContext(section, { cert: pem.certificateFile, key: pem.privateKeyFile, ca: pem.caFile });
  return { ca: pem.caFile, certificate: pem.certificateFile, privateKey: pem.privateKeyFile };
}

/** A PEM file that would fail, and what it would fail: the start (listeners) or each send to a destination. */
export interface PemFileProblem {
  message: string;
  fails: 'start' | 'send';
}

/** Every PEM file of a configuration, read and checked; none when all serve. */
export async function pemFileProblems(config: LimenConfig): Promise<PemFileProblem[]> {
  const checks: Array<[PemFileProblem['fails'], Promise<unknown>]> = [];
  if (config.dimse.tls) checks.push(['start', readDimseTlsPem(config.dimse.tls)]);
  if (config.http.tls) checks.push(['start', readHttpTlsPem(config.http.tls)]);
  for (const [name, d] of Object.entries(config.destinations)) {
    if (d.kind === 'dimse' && d.tls) checks.push(['send', readDestinationTlsPem(d.tls, `destinations.${name}.tls`)]);
  }
  const settled = await Promise.allSettled(checks.map(([, check]) => check));
  return settled.flatMap((s, i) => {
    if (s.status === 'fulfilled') return [];
    const messages = s.reason instanceof PemFileError ? s.reason.problems : [String(s.reason)];
    return messages.map((message) => ({ message, fails: checks[i][0] }));
  });
}

/** Settings holding CA certificates: a file without one would trust nobody, silently. */
const CA_SETTINGS = new Set(['callerCaFile', 'caFile']);

async function readPem<K extends string>(section: string, files: Partial<Record<K, string>>): Promise<Partial<Record<K, Buffer>>> {
  const read: Partial<Record<K, Buffer>> = {};
  // Every file of the section is named at once, not only the first that fails.
  const problems: string[] = [];
  for (const [setting, file] of Object.entries(files) as Array<[K, string | undefined]>) {
    if (file === undefined) continue;
    try {
      read[setting] = await readFile(file);
    } catch (err) {
      problems.push(`${section}.${setting}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      continue;
    }
    if (CA_SETTINGS.has(setting) && !read[setting]!.includes('-----BEGIN CERTIFICATE-----')) {
      problems.push(`${section}.${setting}: ${file} holds no PEM certificate`);
    }
  }
  if (problems.length > 0) throw new PemFileError(problems);
  return read;
}

function checkSecureContext(section: string, options: { cert?: Buffer; key?: Buffer; ca?: Buffer; crl?: Buffer }): void {
  try {
    createSecureContext(options);
  } catch (err) {
    // Names what was given: "certificate or key", "certificate, key or CA", "CA".
    const given = [options.cert && 'certificate', options.key && 'key', options.ca && 'CA', options.crl && 'CRL'].filter((p): p is string => Boolean(p));
    const what = given.length > 1 ? `${given.slice(0, -1).join(', ')} or ${given.at(-1)}` : given[0];
    throw new PemFileError([`${section}: the ${what} cannot be used: ${(err as Error).message}`]);
  }
}
