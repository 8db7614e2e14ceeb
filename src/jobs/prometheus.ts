import { tableSizes } from './retention';
import type { DbOrTx } from '../storage/database';
import { outboxHealth, type OutboxHealth } from './outbox-claims';
import type { DispatcherStats } from './outbox-dispatcher';
import type { SchedulerStats } from './scheduler';
import { countDueTimers } from './timer-claims';

/** What GET /metrics shows: database-wide gauges plus this process's counters. */
export interface MetricsSnapshot {
  ticketsByState: Record<string, number>;
  dueTimers: number;
  outbox: OutboxHealth[];
  scheduler?: SchedulerStats | undefined;
  dispatchers: DispatcherStats[];
  /** Row counts of the tables that grow (see jobs/retention.ts). */
  tableRows?: Record<string, number> | undefined;
}

/**
 * Reads the shared gauges. Costs: tickets by state scans the tickets index once; due timers and
 * outbox depth are proportional to what is due or pending, not to history.
 */
export async function collectMetrics(
  db: DbOrTx,
  now: string,
  local: { scheduler?: { stats(): SchedulerStats } | undefined; dispatchers?: readonly { stats(): DispatcherStats }[] } = {},
): Promise<MetricsSnapshot> {
  const states = await db
    .selectFrom('tickets')
    .select((eb) => ['state', eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  return {
    ticketsByState: Object.fromEntries(states.map((s) => [s.state, Number(s.n)])),
    dueTimers: await countDueTimers(db, now),
    outbox: await outboxHealth(db, now),
    scheduler: local.scheduler?.stats(),
    dispatchers: (local.dispatchers ?? []).map((d) => d.stats()),
    tableRows: await tableSizes(db),
  };
}

/** Prometheus text exposition format (version 0.0.4); serve with `Content-Type: text/plain; version=0.0.4`. */
export function renderPrometheus(m: MetricsSnapshot): string {
  const out: string[] = [];
  const family = (name: string, type: 'gauge' | 'counter' | 'summary', help: string, samples: [Record<string, string>, number][]) => {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) out.push(`${name}${formatLabels(labels)} ${formatValue(value)}`);
  };

  family('ticketbot_tickets', 'gauge', 'Tickets by state.', Object.entries(m.ticketsByState).sort().map(([state, n]) => [{ state }, n]));
  if (m.tableRows) family('ticketbot_table_rows', 'gauge', 'Rows in the tables that grow (retention trims inbox and outbox bodies).', Object.entries(m.tableRows).map(([table, n]) => [{ table }, n]));
  family('ticketbot_timers_due', 'gauge', 'Timers whose next action is due now (claimed or not).', [[{}, m.dueTimers]]);
  family('ticketbot_outbox_depth', 'gauge', 'Outbox rows waiting to be sent, by platform.', m.outbox.map((o) => [{ platform: o.platform }, o.pending]));
  family('ticketbot_outbox_oldest_pending_age_seconds', 'gauge', 'Age of the oldest unsent outbox row.', m.outbox.map((o) => [{ platform: o.platform }, o.oldestPendingAgeMs / 1000]));
  family('ticketbot_outbox_failed', 'gauge', 'Outbox rows parked as failed after the retry budget.', m.outbox.map((o) => [{ platform: o.platform }, o.failed]));
  family(
    'ticketbot_outbox_sends_total',
    'counter',
    'Send attempts by this process, by result (sent, retry, rate_limited, failed).',
    m.dispatchers.flatMap((d) => Object.entries(d.sends).map(([result, n]): [Record<string, string>, number] => [{ platform: d.platform, result }, n])),
  );
  if (m.scheduler) {
    const s = m.scheduler;
    out.push(
      '# HELP ticketbot_scheduler_tick_duration_seconds Duration of scheduler ticks in this process.',
      '# TYPE ticketbot_scheduler_tick_duration_seconds summary',
      `ticketbot_scheduler_tick_duration_seconds_sum ${formatValue(s.tickDurationSumMs / 1000)}`,
      `ticketbot_scheduler_tick_duration_seconds_count ${s.ticks}`,
    );
    family('ticketbot_scheduler_last_tick_duration_seconds', 'gauge', 'Duration of the latest scheduler tick.', [[{}, s.lastTickMs / 1000]]);
    family('ticketbot_scheduler_max_tick_duration_seconds', 'gauge', 'Longest scheduler tick since start.', [[{}, s.maxTickMs / 1000]]);
    family('ticketbot_scheduler_timers_processed_total', 'counter', 'Timers handled by this process, by result.', [
      [{ result: 'ok' }, s.processed.ok],
      [{ result: 'error' }, s.processed.error],
      [{ result: 'lost' }, s.processed.lost],
    ]);
  }
  return out.join('\n') + '\n';
}

function formatLabels(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  return String(Math.round(v * 1e6) / 1e6);
}
