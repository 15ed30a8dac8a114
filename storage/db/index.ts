export { connectDatabase, SQLITE_FILE, type Database, type DatabaseLog, type Dialect } from './connect.js';
export { migrateToLatest, migrationSource, MIGRATIONS, MIGRATIONS_TABLE, type Migration } from './migrations/index.js';
