import { randomBytes } from 'node:crypto';
import { dropSchema, migrate, openStorage, type Storage } from '../../src/storage/database';

/**
 * The databases every storage test runs on: SQLite always, PostgreSQL when TEST_DATABASE_URL is
 * set (.ci/run sets it when the server answers). Each PostgreSQL storage lives in its own random
 * schema, dropped on close.
 */
export interface StorageVariant {
  name: 'sqlite' | 'postgres';
  open(): Promise<Storage>;
}

export function storageVariants(): StorageVariant[] {
  const variants: StorageVariant[] = [{ name: 'sqlite', open: openMigratedSqlite }];
  const url = process.env.TEST_DATABASE_URL;
  if (url) variants.push({ name: 'postgres', open: () => openMigratedPostgres(url) });
  return variants;
}

export async function openMigratedSqlite(file = ':memory:'): Promise<Storage> {
  const storage = await openStorage({ sqliteFile: file });
  await migrate(storage.db);
  return storage;
}

export async function openMigratedPostgres(url: string, schema = `t_${randomBytes(6).toString('hex')}`): Promise<Storage> {
  const storage = await openStorage({ databaseUrl: url, pgSchema: schema, poolSize: 5 });
  await migrate(storage.db);
  return {
    ...storage,
    close: async () => {
      await dropSchema(storage.db, schema);
      await storage.close();
    },
  };
}
