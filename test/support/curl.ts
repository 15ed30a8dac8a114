/** curl as an independent HTTP client: its own encoder and connection handling, not Node's. */
import { execFile } from 'node:child_process';

export interface CurlResponse {
  status: number;
  contentType: string;
  body: string;
  /** curl's exit code (non-zero when e.g. the server closed the connection while curl was sending). */
  exitCode: number;
  stderr: string;
}

const MARK = '\n--curl-status--';

/** Runs `curl -sS <args>` and returns the status line's code, content type and body; never throws. */
export function curl(args: string[]): Promise<CurlResponse> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '-w', `${MARK}%{http_code} %{content_type}`, ...args], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const at = stdout.lastIndexOf(MARK);
      const [code, ...type] = (at >= 0 ? stdout.slice(at + MARK.length) : '0').split(' ');
      const exitCode = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ status: Number(code), contentType: type.join(' '), body: at >= 0 ? stdout.slice(0, at) : stdout, exitCode, stderr });
    });
  });
}

/** A multipart/related body of application/dicom parts, framed by hand (RFC 2046 / 2387). */
export function multipartRelated(parts: readonly Uint8Array[], boundary = `limen-test-${Date.now().toString(36)}`): { body: Buffer; contentType: string } {
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`, 'latin1'), Buffer.from(p), Buffer.from('\r\n', 'latin1'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`, 'latin1'));
  return { body: Buffer.concat(chunks), contentType: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}
