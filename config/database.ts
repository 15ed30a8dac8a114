import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';

/** The embedded database's file, inside the data dir unless `database.url` says otherwise. */
export const DEFAULT_SQLITE_FILENAME = 'limen.sqlite';

/** The database, as storage opens it: embedded SQLite (one process) or PostgreSQL (several). */
export type DatabaseConfig =
  | {
      kind: 'sqlite';
      /** `sqlite:` followed by the absolute file path, or `sqlite::memory:`. */
      url: string;
      /** Absolute path of the database file, or `:memory:`. */
      filename: string;
    }
  | {
      kind: 'postgres';
      /** The connection string as given; may hold a password, so it is never logged. */
      url: string;
    };

/**
 * Reads a database URL. Accepted: `postgres://…` or `postgresql://…`; `sqlite:<path>`
 * (relative paths resolve against `baseDir`), `sqlite:///<absolute path>`, `sqlite::memory:`.
 * The reason given on failure never repeats the URL, which may carry a password.
 */
export function parseDatabaseUrl(
  url: string,
  baseDir: string,
): { ok: true; database: DatabaseConfig } | { ok: false; reason: string } {
  if (/^postgres(ql)?:\/\//i.test(url)) {
    if (!URL.canParse(url)) return { ok: false, reason: 'not a valid PostgreSQL connection URL' };
    return { ok: true, database: { kind: 'postgres', url } };
  }
  if (/^sqlite:/i.test(url)) {
    let rest = url.slice('sqlite:'.length);
    if (rest.startsWith('//')) {
      // URL form: only the empty authority is meaningful (sqlite:///abs/path).
      if (!rest.startsWith('///')) {
        return { ok: false, reason: 'a sqlite URL is sqlite:<path> or sqlite:///<absolute path>' };
      }
      rest = rest.slice(2);
    }
    if (rest === '') return { ok: false, reason: 'a sqlite URL needs a file path (sqlite:<path>)' };
    if (rest === ':memory:') {
      return { ok: true, database: { kind: 'sqlite', url: 'sqlite::memory:', filename: ':memory:' } };
    }
    const filename = isAbsolute(rest) ? rest : resolve(baseDir, rest);
    return { ok: true, database: { kind: 'sqlite', url: `sqlite:${filename}`, filename } };
  }
  return { ok: false, reason: 'a database URL starts with sqlite: or postgres://' };
}

/** The database section as written; the URL is checked for form here, resolved at load. */
export const databaseSchema = z.strictObject({
  url: z
    .string()
    .superRefine((url, ctx) => {
      const parsed = parseDatabaseUrl(url, '/');
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.reason });
    })
    .optional(),
});

/** The default database: the SQLite file in the data dir. */
export function defaultDatabaseUrl(dataDir: string): string {
  return `sqlite:${join(dataDir, DEFAULT_SQLITE_FILENAME)}`;
}
