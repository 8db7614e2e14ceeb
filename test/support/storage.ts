import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSchema, migrate, openStorage, type Storage, type StorageOptions } from '../../src/storage/database';

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

/**
 * Databases a second connection (a report worker thread) can open too: a SQLite file in a temp
 * directory, and PostgreSQL in a random schema when TEST_DATABASE_URL is set. `options` is how the
 * second connection reaches it.
 */
export interface SharedStorageVariant {
  name: string;
  open(): Promise<{ storage: Storage; options: StorageOptions; cleanup(): void }>;
}

export function sharedStorageVariants(dirPrefix: string): SharedStorageVariant[] {
  const variants: SharedStorageVariant[] = [
    {
      name: 'sqlite file',
      open: async () => {
        const dir = mkdtempSync(join(tmpdir(), dirPrefix));
        const file = join(dir, 'desk.db');
        return { storage: await openMigratedSqlite(file), options: { sqliteFile: file }, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
      },
    },
  ];
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    variants.push({
      name: 'postgres',
      open: async () => {
        const schema = `t_${randomBytes(6).toString('hex')}`;
        return { storage: await openMigratedPostgres(url, schema), options: { databaseUrl: url, pgSchema: schema }, cleanup: () => {} };
      },
    });
  }
  return variants;
}
