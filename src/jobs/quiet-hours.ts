import type { Locale } from '../domain/types';
import { quietUntil } from '../domain/quiet-hours';
import { parseOutboxPayload } from '../app/outbox';
import { isMessageKey, t } from '../chat/i18n';
import { localizeParams } from '../chat/views';
import type { Db } from '../storage/database';
import { OUTBOX_PENDING, OUTBOX_SENT, type OutboxLease, type OutboxRecord } from './outbox-claims';

/**
 * Quiet hours in the outbox dispatcher [issue 17 item 6]. Before a row is sent: a non-urgent DM of
 * a kind that can wait (status changes, reminders, digests, anomaly alerts) to a person now in
 * their quiet hours is held until they end; when they end, everything held for that person about
 * one ticket goes as one merged message. Urgent rows (escalation levels marked urgent, manual
 * escalations) and answers to the person's own actions (ticket created, replies, choices) go at once.
 */
export const HOLDABLE_EVENTS: ReadonlySet<string> = new Set([
  'ticket.watch_status',
  'ticket.priority_changed',
  'ticket.assigned',
  'ticket.assigned_to_you',
  'ticket.handed_off',
  'ticket.leg_accepted',
  'ticket.leg_returned',
  'ticket.resolved',
  'ticket.closed',
  'ticket.reopened',
  'ticket.recategorised',
  'ticket.reminder',
  'ticket.due_now',
  'ticket.escalation',
  // DIGEST_EVENT (digest.ts), WEEKLY_DIGEST_JOB_ID and ANOMALY_JOB_ID (reports.ts): written out, as
  // those modules reach the dispatcher and an import cycle would leave them undefined here.
  'digest.open_tickets',
  'report.weekly_digest',
  'report.anomaly',
]);

/** Held rows get this suffix on their order key, so they never hold back an urgent row to the same person. */
const HELD_ORDER = ':quiet';

export type QuietGate = { kind: 'send'; row: OutboxRecord } | { kind: 'held'; until: string };

export async function quietHoursGate(db: Db, row: OutboxRecord, now: string, lease: OutboxLease, defaultLocale: Locale): Promise<QuietGate> {
  if (row.target_kind !== 'user' || row.urgent === 1 || !HOLDABLE_EVENTS.has(row.event)) return { kind: 'send', row };
  const user = await db
    .selectFrom('users')
    .leftJoin('user_settings', 'user_settings.user_id', 'users.id')
    .select(['user_settings.quiet_start', 'user_settings.quiet_end', 'user_settings.quiet_zone'])
    .where('users.platform', '=', row.platform)
    .where('users.platform_user_id', '=', row.target_id)
    .executeTakeFirst();
  const until = user?.quiet_start && user.quiet_end && user.quiet_zone ? quietUntil({ start: user.quiet_start, end: user.quiet_end, zone: user.quiet_zone }, Date.parse(now)) : undefined;
  if (until) {
    const orderKey = row.order_key.endsWith(HELD_ORDER) ? row.order_key : row.order_key + HELD_ORDER;
    const moved = await db
      .updateTable('outbox')
      .set({ next_attempt_at: until, order_key: orderKey, lease_owner: null, lease_until: null })
      .where('id', '=', row.id)
      .where('lease_owner', '=', lease.owner)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 1) {
      await db.insertInto('outbox_quiet_holds').values({ outbox_id: row.id, held_at: now, held_until: until }).onConflict((oc) => oc.column('outbox_id').doUpdateSet({ held_until: until })).execute();
    }
    return { kind: 'held', until };
  }
  if (!row.order_key.endsWith(HELD_ORDER) || row.ticket_id === null) return { kind: 'send', row };
  // Quiet hours are over: the others held for this person about this ticket go in this one message.
  const others = await db
    .selectFrom('outbox')
    .selectAll()
    .where('order_key', '=', row.order_key)
    .where('status', '=', OUTBOX_PENDING)
    .where('id', '!=', row.id)
    .where('next_attempt_at', '<=', now)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  if (others.length === 0) return { kind: 'send', row };
  const latest = others.at(-1)!;
  const payload = parseOutboxPayload(latest.payload);
  const first = parseOutboxPayload(row.payload);
  const locale: Locale = latest.locale === 'en' || latest.locale === 'zh-CN' ? latest.locale : defaultLocale;
  const latestText = payload && isMessageKey(payload.messageKey) ? t(locale, payload.messageKey, localizeParams(payload.params, locale, 'UTC')) : '';
  const merged = JSON.stringify({
    messageKey: 'event.quiet.merged',
    params: { key: String(first?.params.key ?? payload?.params.key ?? ''), count: others.length + 1, latest: latestText },
    thread: 'none',
  });
  await db.transaction().execute(async (tx) => {
    await tx
      .updateTable('outbox')
      .set({ status: OUTBOX_SENT, sent_at: now, last_error: `merged into ${row.id} after quiet hours`, lease_owner: null, lease_until: null })
      .where('id', 'in', others.map((o) => o.id))
      .where('status', '=', OUTBOX_PENDING)
      .execute();
    await tx.updateTable('outbox').set({ payload: merged }).where('id', '=', row.id).execute();
    await tx.deleteFrom('outbox_quiet_holds').where('outbox_id', 'in', [row.id, ...others.map((o) => o.id)]).execute();
  });
  return { kind: 'send', row: { ...row, payload: merged } };
}
