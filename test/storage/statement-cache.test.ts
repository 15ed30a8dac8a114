import { expect } from 'chai';
import { createRequire } from 'node:module';
import { cacheStatements } from '../../storage/db/statement-cache.js';

interface Statement {
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): unknown;
}
type Sqlite = new (file: string) => { prepare(sql: string): Statement; close(): void };
const Sqlite = createRequire(import.meta.url)('better-sqlite3') as Sqlite;

describe('storage: SQLite statement cache', () => {
  it('prepares each SQL text once while it stays among the most recent', () => {
    const prepared: string[] = [];
    const conn = { prepare: (sql: string): unknown => (prepared.push(sql), { sql }) };
    cacheStatements(conn, 2);
    const a = conn.prepare('A');
    expect(conn.prepare('A')).to.equal(a);
    conn.prepare('B');
    conn.prepare('A'); // A is now the most recent: B goes first
    conn.prepare('C');
    expect(conn.prepare('A')).to.equal(a);
    conn.prepare('B');
    expect(prepared).to.deep.equal(['A', 'B', 'C', 'B']);
  });

  it('a cached statement follows schema changes and gives correct results on reuse', () => {
    const db = new Sqlite(':memory:');
    try {
      cacheStatements(db);
      db.prepare('CREATE TABLE t (a INTEGER)').run();
      const select = 'SELECT * FROM t WHERE a >= ? ORDER BY a';
      db.prepare('INSERT INTO t (a) VALUES (?)').run(1);
      db.prepare('INSERT INTO t (a) VALUES (?)').run(2);
      expect(db.prepare(select).all(2)).to.deep.equal([{ a: 2 }]);
      db.prepare('ALTER TABLE t ADD COLUMN b TEXT').run();
      db.prepare('UPDATE t SET b = ?').run('x');
      expect(db.prepare(select).all(1)).to.deep.equal([
        { a: 1, b: 'x' },
        { a: 2, b: 'x' },
      ]);
    } finally {
      db.close();
    }
  });
});
