import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Env } from '../config/env';
import type { Storage } from '../storage/database';

/**
 * Read-only CLI commands (`stats`, `export`, `digest --preview`) open the database through here:
 * a missing file, an empty file or a database without our tables is one clear line — never
 * "no such table" — and reading never creates a database.
 */
export class NoDatabaseError extends Error {
  override name = 'NoDatabaseError';
  constructor(readonly where: string) {
    super(`no ticketbot database at ${where} — start the bot or run \`ticketbot migrate\``);
  }
}

/** The table every migrated ticketbot database has. */
const MARKER_TABLE = 'tickets';

/** The database named by the environment, if it exists and is migrated; throws NoDatabaseError otherwise. */
export async function openExistingStorage(env: Pick<Env, 'DATABASE_URL' | 'TICKETBOT_DB_FILE'>): Promise<Storage> {
  if (!env.DATABASE_URL) {
    const file = resolve(env.TICKETBOT_DB_FILE);
    if (!existsSync(file) || !sqliteHasTables(file)) throw new NoDatabaseError(file);
  }
  const { openStorage } = require('../storage/database') as typeof import('../storage/database');
  const storage = await openStorage({ databaseUrl: env.DATABASE_URL, sqliteFile: env.TICKETBOT_DB_FILE });
  if (env.DATABASE_URL) {
    const { sql } = require('kysely') as typeof import('kysely');
    let found = false;
    try {
      const r = await sql<{ t: string | null }>`select to_regclass(${MARKER_TABLE}) as t`.execute(storage.db);
      found = r.rows[0]?.t != null;
    } catch (err) {
      await storage.close();
      throw err;
    }
    if (!found) {
      await storage.close();
      throw new NoDatabaseError(redactUrl(env.DATABASE_URL));
    }
  }
  return storage;
}

/** Looks at a SQLite file read-only, so an empty or foreign file is left exactly as it was. */
function sqliteHasTables(file: string): boolean {
  const SQLite = require('better-sqlite3') as typeof import('better-sqlite3');
  let db: InstanceType<typeof SQLite> | undefined;
  try {
    db = new SQLite(file, { readonly: true, fileMustExist: true });
    return db.prepare(`select 1 from sqlite_master where type = 'table' and name = ?`).get(MARKER_TABLE) !== undefined;
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

/** postgres://user:secret@host/db → postgres://user:***@host/db */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(DATABASE_URL)';
  }
}
