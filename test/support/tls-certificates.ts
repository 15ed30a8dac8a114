/**
 * A throwaway PKI for DICOM TLS tests, made by the openssl command: a hospital CA, Limen's
 * certificate for 127.0.0.1, a modality certificate signed by that CA, and one signed by a CA
 * Limen does not trust; and the CA's revocation list. Keys are unencrypted, files PEM, all under
 * one temporary directory.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  dir: string;
  caCertificate: string;
  server: { certificate: string; privateKey: string };
  /** Signed by the CA. */
  modality: { certificate: string; privateKey: string };
  /** Signed by another CA. */
  stranger: { certificate: string; privateKey: string };
  /** Revokes a certificate the CA issued and returns the CA's new CRL (PEM). */
  revoke(certificate: string): string;
  /** The CA's current CRL (PEM), revoking nothing until `revoke` is called. */
  crl(): string;
  /** Another certificate for Limen (127.0.0.1), signed by the CA: a renewal. */
  renewServer(name: string): { certificate: string; privateKey: string };
  read(file: string): Buffer;
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** An EC P-256 key and a certificate for `subject`, signed by `issuer` (self-signed when absent). */
function issue(cwd: string, name: string, subject: string, issuer?: string, extensions = ''): { certificate: string; privateKey: string } {
  const key = join(cwd, `${name}.key`);
  const certificate = join(cwd, `${name}.crt`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key], cwd);
  if (issuer === undefined) {
    openssl(['req', '-x509', '-new', '-key', key, '-subj', subject, '-days', '2', '-out', certificate, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], cwd);
  } else {
    const csr = join(cwd, `${name}.csr`);
    const ext = join(cwd, `${name}.ext`);
    writeFileSync(ext, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n${extensions}`);
    openssl(['req', '-new', '-key', key, '-subj', subject, '-out', csr], cwd);
    openssl(['x509', '-req', '-in', csr, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', certificate], cwd);
  }
  return { certificate, privateKey: key };
}

export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'limen-pki-'));
  const ca = issue(dir, 'ca', '/CN=Test Hospital CA');
  issue(dir, 'other-ca', '/CN=Unknown CA');
  const serverExtensions = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';
  // `openssl ca` keeps its own small database of what the CA revoked.
  const caDatabase = () => {
    writeFileSync(join(dir, 'ca.cnf'), '[ca]\ndefault_ca = test\n[test]\ndatabase = index.txt\ncrlnumber = crlnumber\ndefault_md = sha256\ndefault_crl_days = 2\n');
    writeFileSync(join(dir, 'index.txt'), '', { flag: 'a' });
    if (!existsSync(join(dir, 'crlnumber'))) writeFileSync(join(dir, 'crlnumber'), '01\n');
  };
  const crl = () => {
    caDatabase();
    openssl(['ca', '-config', 'ca.cnf', '-gencrl', '-keyfile', 'ca.key', '-cert', 'ca.crt', '-out', 'ca.crl'], dir);
    return join(dir, 'ca.crl');
  };
  return {
    dir,
    caCertificate: ca.certificate,
    server: issue(dir, 'limen', '/CN=limen.test', 'ca', serverExtensions),
    modality: issue(dir, 'modality', '/CN=CT room 3', 'ca', 'extendedKeyUsage=clientAuth\n'),
    stranger: issue(dir, 'stranger', '/CN=Stranger', 'other-ca', 'extendedKeyUsage=clientAuth\n'),
    revoke(certificate) {
      caDatabase();
      openssl(['ca', '-config', 'ca.cnf', '-revoke', certificate, '-keyfile', 'ca.key', '-cert', 'ca.crt'], dir);
      return crl();
    },
    crl,
    renewServer: (name) => issue(dir, name, '/CN=limen.test', 'ca', serverExtensions),
    read: (file) => readFileSync(file),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
