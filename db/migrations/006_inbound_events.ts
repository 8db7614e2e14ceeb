import { Kysely } from 'kysely';

/**
 * Durable intake: every inbound platform payload (Slack commands, events, interactions; Feishu
 * events and card actions) is written here before it is acknowledged, then worked under a lease.
 * `dedup_key` recognises a platform's retry of the same request; `lease_until` doubles as the time a
 * pending row may be taken (by any replica) when its owner died or gave it back.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('inbound_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('dedup_key', 'text', (c) => c.notNull().unique())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .execute();
  // The recovery claim: pending rows whose lease ran out, oldest first.
  await db.schema.createIndex('inbound_events_pending').on('inbound_events').columns(['status', 'lease_until']).execute();
  // Retention: finished rows by age.
  await db.schema.createIndex('inbound_events_received').on('inbound_events').columns(['received_at']).execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('inbound_events').ifExists().execute();
}
