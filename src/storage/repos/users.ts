import type { Kysely } from 'kysely';
import type { DbOrTx } from '../database';
import type { Database, UserRow } from '../tables';

/**
 * Our id of a platform user: `slack:U0123`, `feishu:ou_abc`. Slack user ids and Feishu open_ids
 * are unique within our app, so the same text works as a config reference; the workspace/tenant
 * is stored beside it.
 */
export function userIdOf(platform: string, platformUserId: string): string {
  return `${platform}:${platformUserId}`;
}

export async function findUser(db: DbOrTx, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findUsers(db: DbOrTx, ids: string[]): Promise<Map<string, UserRow>> {
  if (ids.length === 0) return new Map();
  const rows = await db.selectFrom('users').selectAll().where('id', 'in', [...new Set(ids)]).execute();
  return new Map(rows.map((r) => [r.id, r]));
}

/** Inserts or refreshes a user; fields left undefined keep their stored value. */
export async function upsertUser(db: DbOrTx, row: UserRow): Promise<void> {
  await db
    .insertInto('users')
    .values(row)
    .onConflict((oc) =>
      oc.column('id').doUpdateSet((eb) => ({
        name: eb.fn.coalesce(eb.ref('excluded.name'), eb.ref('users.name')),
        email: eb.fn.coalesce(eb.ref('excluded.email'), eb.ref('users.email')),
        locale: eb.fn.coalesce(eb.ref('excluded.locale'), eb.ref('users.locale')),
        timezone: eb.fn.coalesce(eb.ref('excluded.timezone'), eb.ref('users.timezone')),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
}

export async function setUserLocale(db: DbOrTx, id: string, locale: string, now: string): Promise<void> {
  await db.updateTable('users').set({ locale, updated_at: now }).where('id', '=', id).execute();
}

/** Department members known from the platform (members: channel); refreshed by the chat layer. */
export async function listDepartmentMembers(db: DbOrTx, departmentId: string): Promise<string[]> {
  const rows = await db.selectFrom('department_members').select('user_id').where('department_id', '=', departmentId).execute();
  return rows.map((r) => r.user_id);
}

export async function isDepartmentMember(db: DbOrTx, departmentId: string, userId: string): Promise<boolean> {
  const row = await db
    .selectFrom('department_members')
    .select('user_id')
    .where('department_id', '=', departmentId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Sets the members of a department that come from `source` (its channel or chat) to `userIds`, in
 * one transaction and as a difference: those who left are removed, newcomers added, the rest never
 * leave the table. A permission check or routing decision running meanwhile (or another replica
 * syncing the same department) sees the old team or the new one, never an empty one.
 */
export async function replaceDepartmentMembers(db: DbOrTx, departmentId: string, userIds: string[], source: string, now: string): Promise<void> {
  const run = async (tx: DbOrTx) => {
    const wanted = [...new Set(userIds)];
    let gone = tx.deleteFrom('department_members').where('department_id', '=', departmentId).where('source', '=', source);
    if (wanted.length) gone = gone.where('user_id', 'not in', wanted);
    await gone.execute();
    if (wanted.length)
      await tx
        .insertInto('department_members')
        .values(wanted.map((user_id) => ({ department_id: departmentId, user_id, source, updated_at: now })))
        .onConflict((oc) => oc.columns(['department_id', 'user_id']).doNothing())
        .execute();
  };
  if (db.isTransaction) await run(db);
  else await (db as Kysely<Database>).transaction().execute(run);
}
