import { Kysely } from 'kysely';

/**
 * Workflow automation (issue 17): who watches a ticket (rules' `add_watchers`), each person's
 * quiet hours, and which outbox rows quiet hours held (so they are merged per ticket when they end).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('ticket_watchers')
    .addColumn('ticket_id', 'text', (c) => c.notNull())
    /** A config user reference: slack:U…, feishu:ou_…, email:… */
    .addColumn('user_ref', 'text', (c) => c.notNull())
    /** `rule <id>` or the users.id of the person who added the watcher. */
    .addColumn('added_by', 'text', (c) => c.notNull())
    .addColumn('added_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ticket_watchers_pk', ['ticket_id', 'user_ref'])
    .execute();

  await db.schema
    .createTable('user_settings')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    /** Quiet hours as HH:MM in quiet_zone; both null = off. */
    .addColumn('quiet_start', 'text')
    .addColumn('quiet_end', 'text')
    .addColumn('quiet_zone', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('outbox_quiet_holds')
    .addColumn('outbox_id', 'text', (c) => c.primaryKey())
    .addColumn('held_at', 'text', (c) => c.notNull())
    .addColumn('held_until', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('outbox_quiet_holds').ifExists().execute();
  await db.schema.dropTable('user_settings').ifExists().execute();
  await db.schema.dropTable('ticket_watchers').ifExists().execute();
}
