/**
 * The files a DICOMweb destination's credentials are read from (`auth.bearerTokenFile`,
 * `auth.basic.passwordFile`), read at each send: `limen config check` reads them as a send would,
 * so a file that is missing, unreadable or empty is said before every delivery there fails.
 */
import { readFile } from 'node:fs/promises';
import type { PemFileProblem } from './pem-files.js';
import type { LimenConfig } from './schema.js';

/** Every credential file of the configuration's destinations that a send could not use; none when all can. */
export async function credentialFileProblems(config: LimenConfig): Promise<PemFileProblem[]> {
  const files: Array<[setting: string, file: string]> = [];
  for (const [name, d] of Object.entries(config.destinations)) {
    if (d.kind !== 'dicomweb' || d.auth === undefined) continue;
    if ('bearerTokenFile' in d.auth) files.push([`destinations.${name}.auth.bearerTokenFile`, d.auth.bearerTokenFile]);
    else files.push([`destinations.${name}.auth.basic.passwordFile`, d.auth.basic.passwordFile]);
  }
  const problems = await Promise.all(
    files.map(async ([setting, file]) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        return `${setting}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      }
      // A send trims the file: only blanks would send an empty credential.
      return text.trim() === '' ? `${setting}: ${file} is empty` : undefined;
    }),
  );
  return problems.filter((p): p is string => p !== undefined).map((message) => ({ message, fails: 'send' as const }));
}
