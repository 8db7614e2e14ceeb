import { Kysely } from 'kysely';

/**
 * The initial schema, shared by SQLite and PostgreSQL. Frozen against Kysely<any>: later changes
 * get a new migration. Timestamps are ISO-8601 UTC text ending in Z; ids are text; flags are
 * integers 0/1 (the same bytes in both databases).
 */
export async function up(db: Kysely<any>): Promise<void> {
  // Business milliseconds can pass 2^31 (about 25 days): 64-bit on PostgreSQL; SQLite integers are 64-bit.
  const int64 = isPostgres(db) ? 'bigint' : 'integer';

  await db.schema
    .createTable('key_sequences')
    .addColumn('prefix', 'text', (c) => c.primaryKey())
    .addColumn('last_value', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('routing_cursors')
    .addColumn('department_id', 'text', (c) => c.primaryKey())
    .addColumn('cursor', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('workspace', 'text', (c) => c.notNull())
    .addColumn('platform_user_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('email', 'text')
    .addColumn('locale', 'text')
    .addColumn('timezone', 'text')
    .addColumn('away_until', 'text')
    .addColumn('is_bot', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addUniqueConstraint('users_platform_identity', ['platform', 'workspace', 'platform_user_id'])
    .execute();
  await db.schema.createIndex('users_email').on('users').column('email').execute();

  await db.schema
    .createTable('department_members')
    .addColumn('department_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('department_members_pk', ['department_id', 'user_id'])
    .execute();

  await db.schema
    .createTable('tickets')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('key', 'text', (c) => c.notNull().unique())
    .addColumn('department_id', 'text', (c) => c.notNull())
    .addColumn('home_department_id', 'text', (c) => c.notNull())
    .addColumn('category_id', 'text', (c) => c.notNull())
    .addColumn('priority', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('requester_id', 'text', (c) => c.notNull())
    .addColumn('assignee_id', 'text')
    .addColumn('sensitive', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locale', 'text', (c) => c.notNull())
    .addColumn('source_platform', 'text', (c) => c.notNull())
    .addColumn('source_ref', 'text')
    .addColumn('current_leg_id', 'text')
    .addColumn('public_reply_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('reopen_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('first_response_at', 'text')
    .addColumn('resolved_at', 'text')
    .addColumn('closed_at', 'text')
    .execute();
  await db.schema.createIndex('tickets_dept_state').on('tickets').columns(['department_id', 'state']).execute();
  await db.schema.createIndex('tickets_assignee_state').on('tickets').columns(['assignee_id', 'state']).execute();
  await db.schema.createIndex('tickets_requester').on('tickets').columns(['requester_id', 'created_at']).execute();
  await db.schema.createIndex('tickets_created').on('tickets').column('created_at').execute();

  await db.schema
    .createTable('ticket_fields')
    .addColumn('ticket_id', 'text', (c) => c.notNull())
    .addColumn('field_id', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('ticket_fields_pk', ['ticket_id', 'field_id'])
    .execute();

  await db.schema
    .createTable('legs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('ticket_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('department_id', 'text', (c) => c.notNull())
    .addColumn('from_department_id', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('assignee_id', 'text')
    .addColumn('reason', 'text')
    .addColumn('note', 'text')
    .addColumn('return_reason', 'text')
    .addColumn('opened_by', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'text', (c) => c.notNull())
    .addColumn('accepted_at', 'text')
    .addColumn('closed_at', 'text')
    .addUniqueConstraint('legs_ticket_seq', ['ticket_id', 'seq'])
    .execute();

  await db.schema
    .createTable('clocks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('ticket_id', 'text', (c) => c.notNull())
    .addColumn('leg_id', 'text')
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('cycle', 'integer', (c) => c.notNull())
    .addColumn('target_ms', int64, (c) => c.notNull())
    .addColumn('calendar_id', 'text', (c) => c.notNull())
    .addColumn('policy_id', 'text')
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('elapsed_ms', int64, (c) => c.notNull())
    .addColumn('running_since', 'text')
    .addColumn('paused_at', 'text')
    .addColumn('due_at', 'text')
    .addColumn('met_at', 'text')
    .addColumn('breached_at', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('log', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('clocks_ticket').on('clocks').column('ticket_id').execute();

  await db.schema
    .createTable('timers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('ticket_id', 'text')
    .addColumn('clock_id', 'text')
    .addColumn('next_action_at', 'text')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('payload', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('timers_due').on('timers').column('next_action_at').execute();
  await db.schema.createIndex('timers_ticket').on('timers').column('ticket_id').execute();

  await db.schema
    .createTable('escalation_firings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('clock_id', 'text', (c) => c.notNull())
    .addColumn('ticket_id', 'text', (c) => c.notNull())
    .addColumn('cycle', 'integer', (c) => c.notNull())
    .addColumn('level', 'integer', (c) => c.notNull())
    .addColumn('repeat', 'integer', (c) => c.notNull())
    .addColumn('fired_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('escalation_firings_clock').on('escalation_firings').column('clock_id').execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('ticket_id', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('from_state', 'text')
    .addColumn('to_state', 'text')
    .addColumn('reason', 'text')
    .addColumn('data', 'text')
    .addColumn('event_key', 'text')
    .addColumn('message_ref', 'text')
    .execute();
  await db.schema.createIndex('audit_events_ticket').on('audit_events').columns(['ticket_id', 'at']).execute();
  await db.schema.createIndex('audit_events_action_at').on('audit_events').columns(['action', 'at']).execute();

  await db.schema
    .createTable('messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('ticket_id', 'text', (c) => c.notNull())
    .addColumn('visibility', 'text', (c) => c.notNull())
    .addColumn('author_role', 'text', (c) => c.notNull())
    .addColumn('author_id', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('attachments', 'text', (c) => c.notNull())
    .addColumn('origin_platform', 'text', (c) => c.notNull())
    .addColumn('origin_ref', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('messages_ticket').on('messages').columns(['ticket_id', 'created_at']).execute();

  await db.schema
    .createTable('chat_links')
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('workspace', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('ticket_id', 'text', (c) => c.notNull())
    .addColumn('leg_id', 'text')
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('card_version', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('chat_links_pk', ['platform', 'workspace', 'channel', 'message_id'])
    .execute();
  await db.schema.createIndex('chat_links_ticket').on('chat_links').columns(['ticket_id', 'role']).execute();

  await db.schema
    .createTable('inbox')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('result', 'text')
    .execute();

  await db.schema
    .createTable('outbox')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('ticket_id', 'text')
    .addColumn('ticket_version', 'integer')
    .addColumn('platform', 'text', (c) => c.notNull())
    .addColumn('target_kind', 'text', (c) => c.notNull())
    .addColumn('target_id', 'text', (c) => c.notNull())
    .addColumn('event', 'text', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('locale', 'text', (c) => c.notNull())
    .addColumn('urgent', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('order_key', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('sent_at', 'text')
    .execute();
  await db.schema.createIndex('outbox_pending').on('outbox').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('outbox_order').on('outbox').columns(['order_key', 'created_at']).execute();

  await db.schema
    .createTable('surveys')
    .addColumn('ticket_id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('score', 'integer', (c) => c.notNull())
    .addColumn('comment', 'text')
    .addColumn('answered_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('feedback')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('department_id', 'text')
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'feedback', 'surveys', 'outbox', 'inbox', 'chat_links', 'messages', 'audit_events', 'escalation_firings',
    'timers', 'clocks', 'legs', 'ticket_fields', 'tickets', 'department_members', 'users', 'routing_cursors', 'key_sequences',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}

function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter.constructor.name === 'PostgresAdapter';
}
