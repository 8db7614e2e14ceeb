import { Command } from 'commander';
import type { Config } from '../config/model';
import { readEnv } from '../config/env';
import { loadConfigFile } from '../config/load';
import { locateConfig } from '../config/locate';
import { openStorage } from '../storage/database';
import { loadTicketHistory, userNames, type TicketHistory } from '../app/history';
import type { AuditEventRow } from '../storage/tables';
import { historyLines, historyView, parseLog } from '../chat/history';
import { action, configureCommand, EXIT_OK, EXIT_PROBLEM, UsageError } from './common';

/**
 * `ticketbot show KEY`: a ticket and its history from the database — who did what when (rule
 * applications, handoffs and returns with their reasons), and each SLA clock with its due time and
 * the stored explanation of why it is due then. For admins at a terminal; read-only.
 */
export function registerShowCommand(program: Command): void {
  configureCommand(
    program
      .command('show')
      .description('a ticket and its history (audit trail, legs, clocks with why they are due then) from the database')
      .argument('<key>', 'ticket key, e.g. IT-1042')
      .option('--config <file>', 'config file (names of categories and departments; default: TICKETBOT_CONFIG or ./ticketbot.yaml)')
      .option('--format <format>', 'text or json', 'text')
      .option('--lang <locale>', 'the history in words, in en or zh-CN (the same lines the card and the dashboard show)')
      .option('--tz <zone>', 'time zone of the times with --lang', 'UTC'),
  ).action(
    action(async (key: string, opts: { config?: string; format: string; lang?: string; tz: string }) => {
      if (opts.format !== 'text' && opts.format !== 'json') throw new UsageError(`--format: expected text or json, got "${opts.format}"`);
      if (opts.lang !== undefined && opts.lang !== 'en' && opts.lang !== 'zh-CN') throw new UsageError(`--lang: expected en or zh-CN, got "${opts.lang}"`);
      const config = loadConfigFile(opts.config ?? locateConfig().path);
      const env = readEnv();
      const storage = await openStorage({ databaseUrl: env.DATABASE_URL, sqliteFile: env.TICKETBOT_DB_FILE });
      try {
        const history = await loadTicketHistory(storage.db, key);
        if (!history) {
          console.error(`error: no ticket ${key}`);
          return EXIT_PROBLEM;
        }
        const names = await userNames(storage.db, history);
        const text = opts.lang ? historyLines(historyView(config, { ...history, names }, opts.lang, opts.tz)) : formatTicketHistory(config, history);
        console.log(opts.format === 'json' ? JSON.stringify(history, null, 2) : text.join('\n'));
        return EXIT_OK;
      } finally {
        await storage.close();
      }
    }),
  );
}

export { loadTicketHistory, userNames, type TicketHistory } from '../app/history';

/** The history in plain lines (English: an admin tool, like `simulate`). */
export function formatTicketHistory(config: Config, h: TicketHistory): string[] {
  const t = h.ticket;
  const category = config.categories.get(t.category_id)?.name.en ?? t.category_id;
  const dept = (id: string) => config.departments.get(id)?.name.en ?? id;
  const lines = [
    `${t.key}  ${t.title}`,
    `  state ${t.state} · priority ${t.priority} · ${dept(t.department_id)} · ${category}${t.sensitive ? ' · sensitive' : ''}`,
    `  requester ${t.requester_id} · assignee ${t.assignee_id ?? '(none)'} · created ${t.created_at}`,
    '',
    'History',
  ];
  for (const e of h.events) lines.push(`  ${e.at}  ${e.actor_id.padEnd(16)} ${eventWords(e, dept)}`);
  if (h.legs.length > 1) {
    lines.push('', 'Legs');
    for (const l of h.legs) {
      const from = l.from_department_id ? ` from ${dept(l.from_department_id)}` : '';
      const why = [l.reason ? `reason: ${l.reason}` : '', l.return_reason ? `returned: ${l.return_reason}` : ''].filter(Boolean).join('; ');
      lines.push(`  ${l.seq}. ${dept(l.department_id)}${from}  ${l.state}  opened ${l.opened_at}${why ? `  (${why})` : ''}`);
    }
  }
  if (h.clocks.length) {
    lines.push('', 'Clocks');
    for (const c of h.clocks) {
      const state = c.met_at ? `met ${c.met_at}` : c.status;
      const breached = c.breached_at ? `, breached ${c.breached_at}` : '';
      lines.push(`  ${c.kind}${c.cycle > 1 ? ` (cycle ${c.cycle})` : ''}  ${state}${breached}  due ${c.due_at ?? '-'}  policy ${c.policy_id ?? '-'}, calendar ${c.calendar_id}`);
      const why = parseLog(c.log);
      if (why.length) lines.push(`    why: ${why.at(-1)}`);
    }
  }
  return lines;
}

function eventWords(e: AuditEventRow, dept: (id: string) => string): string {
  const data = e.data ? (JSON.parse(e.data) as Record<string, unknown>) : {};
  if (e.action === 'rule_applied') return `rule ${String(data.rule)} set ${String(data.field)} = ${String(data.value)}`;
  const move = e.from_state || e.to_state ? ` ${e.from_state ?? ''}→${e.to_state ?? ''}` : '';
  const extras = Object.entries(data)
    .filter(([, v]) => v !== null && v !== undefined)
    .map(([k, v]) => `${k}=${k === 'department' || k === 'to' || k === 'from' ? dept(String(v)) : typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');
  return `${e.action}${move}${e.reason ? `  reason: ${e.reason}` : ''}${extras ? `  (${extras})` : ''}`;
}
