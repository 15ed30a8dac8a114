/**
 * better-sqlite3 directly, for tests that read or tamper with the embedded database behind
 * Limen's back (the gateway stopped). The package ships no types: this is the part tests use.
 */
import { createRequire } from 'node:module';

export interface SqliteStatement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}

export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  close(): void;
}

type SqliteConstructor = new (file: string, options?: { readonly?: boolean; fileMustExist?: boolean }) => SqliteDatabase;

const BetterSqlite3 = createRequire(import.meta.url)('better-sqlite3') as SqliteConstructor;

/** Opens an existing SQLite file (never creates one). */
export function openSqlite(file: string, options: { readonly?: boolean } = {}): SqliteDatabase {
  return new BetterSqlite3(file, { readonly: options.readonly ?? false, fileMustExist: true });
}
