import { sql, type ExpressionBuilder } from 'kysely';
import type { ChatPlatform } from '../domain/platforms';
import type { Database } from '../storage/tables';
import type { FigureMetric } from './figures';
import { CalendarMeasures } from '../domain/metrics';
import { OPEN_STATES } from '../domain/ticket';
import { leavesUnder, type ReportFilter, type ReportSource } from './queries';

/**
 * Lists a supervisor acts on (the dashboard's "due soon", "workload", "tickets behind a figure"
 * and the satisfaction comments): row-level queries, kept apart from queries.ts, which computes
 * the aggregate metrics. Each list follows the same definitions as the figure it explains.
 */

const iso = (ms: number) => new Date(ms).toISOString();
const OPEN = [...OPEN_STATES] as string[];

export interface ListScope {
  departmentIds?: readonly string[] | undefined;
  categoryId?: string | undefined;
}

type Eb = ExpressionBuilder<Database & { t: Database['tickets'] }, 't'>;
type Countable = { select(selection: unknown): { executeTakeFirst(): Promise<{ n?: unknown } | undefined> } };

/** Rows of a query (its own selection aside). */
async function countOf(q: unknown): Promise<number> {
  return Number((await (q as Countable).select(sql<number>`count(*)`.as('n')).executeTakeFirst())?.n ?? 0);
}

/** Where-conditions on tickets `t` for a scope, or false when nothing can match. */
function scoped(src: ReportSource, scope: ListScope) {
  const leaves = scope.categoryId !== undefined ? leavesUnder(src.config, scope.categoryId) : undefined;
  if ((leaves && leaves.length === 0) || (scope.departmentIds && scope.departmentIds.length === 0)) return false as const;
  return (eb: Eb) => {
    const parts = [];
    if (scope.departmentIds) parts.push(eb('t.department_id', 'in', [...scope.departmentIds]));
    if (leaves) parts.push(eb('t.category_id', 'in', leaves));
    return eb.and(parts);
  };
}

export interface PersonRef {
  id: string;
  name: string | null;
}

export interface TicketLine {
  id: string;
  key: string;
  title: string;
  departmentId: string;
  priority: string;
  state: string;
  createdAt: string;
  assignee: PersonRef | null;
  requester: PersonRef;
}

const TICKET_COLUMNS = ['t.id', 't.key', 't.title', 't.department_id', 't.priority', 't.state', 't.created_at', 't.assignee_id', 't.requester_id', 'asg.name as assignee_name', 'req.name as requester_name'] as const;

function ticketLine(r: { id: string; key: string; title: string; department_id: string; priority: string; state: string; created_at: string; assignee_id: string | null; requester_id: string; assignee_name: string | null; requester_name: string | null }): TicketLine {
  return {
    id: r.id,
    key: r.key,
    title: r.title,
    departmentId: r.department_id,
    priority: r.priority,
    state: r.state,
    createdAt: r.created_at,
    assignee: r.assignee_id === null ? null : { id: r.assignee_id, name: r.assignee_name },
    requester: { id: r.requester_id, name: r.requester_name },
  };
}

// ---------------------------------------------------------------------------------------------
// Due soon and overdue

export interface DueLine extends TicketLine {
  clockKind: string;
  dueAt: string;
}

/** Running clocks of open tickets due before now + window (overdue ones included), soonest first. */
export async function loadDueSoon(src: ReportSource, scope: ListScope, nowMs: number, windowMs: number, limit = 100): Promise<DueLine[]> {
  const where = scoped(src, scope);
  if (where === false) return [];
  const rows = await src.db
    .selectFrom('clocks as c')
    .innerJoin('tickets as t', 't.id', 'c.ticket_id')
    .leftJoin('users as asg', 'asg.id', 't.assignee_id')
    .leftJoin('users as req', 'req.id', 't.requester_id')
    .select([...TICKET_COLUMNS, 'c.kind', 'c.due_at'])
    .where('c.status', '=', 'running')
    .where('c.due_at', 'is not', null)
    .where('c.due_at', '<', iso(nowMs + windowMs))
    .where('t.state', 'in', OPEN)
    .where(where as never)
    .orderBy('c.due_at')
    .limit(limit)
    .execute();
  return rows.map((r) => ({ ...ticketLine(r), clockKind: r.kind, dueAt: r.due_at! }));
}

// ---------------------------------------------------------------------------------------------
// Workload per agent

export interface AgentLoad {
  agent: PersonRef;
  open: number;
  dueSoon: number;
  resolved: number;
  onTime: number;
  late: number;
}

/**
 * Per assignee: open tickets now, how many of those have a clock due within the window (or
 * overdue), tickets resolved in the period, and the clocks completed in the period on their
 * tickets (met in time / breached). Clocks count for the ticket's current assignee.
 */
export async function loadWorkload(src: ReportSource, scope: ListScope, period: Pick<ReportFilter, 'fromMs' | 'toMs'>, nowMs: number, windowMs: number): Promise<AgentLoad[]> {
  const where = scoped(src, scope);
  if (where === false) return [];
  const from = iso(period.fromMs);
  const to = iso(period.toMs);
  const base = () => src.db.selectFrom('tickets as t').where('t.assignee_id', 'is not', null).where(where as never);
  const [open, due, resolved, clocks] = await Promise.all([
    base().select(['t.assignee_id', (eb) => eb.fn.countAll<number>().as('n')]).where('t.state', 'in', OPEN).groupBy('t.assignee_id').execute(),
    base()
      .select(['t.assignee_id', sql<number>`count(distinct t.id)`.as('n')])
      .innerJoin('clocks as c', 'c.ticket_id', 't.id')
      .where('t.state', 'in', OPEN)
      .where('c.status', '=', 'running')
      .where('c.due_at', 'is not', null)
      .where('c.due_at', '<', iso(nowMs + windowMs))
      .groupBy('t.assignee_id')
      .execute(),
    base()
      .select(['t.assignee_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('t.resolved_at', '>=', from)
      .where('t.resolved_at', '<', to)
      .where('t.state', 'in', ['resolved', 'closed'])
      .groupBy('t.assignee_id')
      .execute(),
    base()
      .innerJoin('clocks as c', 'c.ticket_id', 't.id')
      .select([
        't.assignee_id',
        sql<number>`sum(case when c.breached_at is null then 1 else 0 end)`.as('on_time'),
        sql<number>`sum(case when c.breached_at is not null then 1 else 0 end)`.as('late'),
      ])
      .where(sql<boolean>`((c.breached_at >= ${from} and c.breached_at < ${to}) or (c.met_at >= ${from} and c.met_at < ${to} and c.breached_at is null))`)
      .groupBy('t.assignee_id')
      .execute(),
  ]);
  const loads = new Map<string, AgentLoad>();
  const get = (id: string) => {
    let l = loads.get(id);
    if (!l) {
      l = { agent: { id, name: null }, open: 0, dueSoon: 0, resolved: 0, onTime: 0, late: 0 };
      loads.set(id, l);
    }
    return l;
  };
  for (const r of open) get(r.assignee_id!).open = Number(r.n);
  for (const r of due) get(r.assignee_id!).dueSoon = Number(r.n);
  for (const r of resolved) get(r.assignee_id!).resolved = Number(r.n);
  for (const r of clocks) {
    const l = get(r.assignee_id!);
    l.onTime = Number(r.on_time);
    l.late = Number(r.late);
  }
  if (loads.size === 0) return [];
  const users = await src.db.selectFrom('users').select(['id', 'name']).where('id', 'in', [...loads.keys()]).execute();
  for (const u of users) get(u.id).agent.name = u.name;
  return [...loads.values()].sort((a, b) => b.dueSoon - a.dueSoon || b.open - a.open || a.agent.id.localeCompare(b.agent.id));
}

// ---------------------------------------------------------------------------------------------
// The tickets behind a figure

export interface BehindLine extends TicketLine {
  /** What the row adds to the figure: a business duration (ms), a clock's outcome, a score, a flag. */
  detail: { kind: 'duration'; ms: number } | { kind: 'clock'; clock: string; late: boolean } | { kind: 'score'; score: number } | { kind: 'flag'; yes: boolean } | { kind: 'none' };
}

export interface Paged<T> {
  rows: T[];
  total: number;
}

/**
 * The rows a figure was computed from, under the same definitions as queries.ts/metrics.ts (for
 * the department filter: the ticket's department). `page` counts from 0.
 */
export async function loadTicketsBehind(src: ReportSource, metric: FigureMetric, scope: ListScope, period: Pick<ReportFilter, 'fromMs' | 'toMs'>, page: number, pageSize: number): Promise<Paged<BehindLine>> {
  const where = scoped(src, scope);
  if (where === false) return { rows: [], total: 0 };
  const from = iso(period.fromMs);
  const to = iso(period.toMs);
  const measures = new CalendarMeasures(src.calendars);
  const deptCalendar = (id: string) => src.config.departments.get(id)?.calendar ?? 'always';
  const tickets = () =>
    src.db
      .selectFrom('tickets as t')
      .leftJoin('users as asg', 'asg.id', 't.assignee_id')
      .leftJoin('users as req', 'req.id', 't.requester_id')
      .where(where as never);
  const inPeriod = (column: 't.created_at' | 't.first_response_at' | 't.resolved_at') => sql<boolean>`(${sql.ref(column)} >= ${from} and ${sql.ref(column)} < ${to})`;

  switch (metric) {
    case 'first_response':
    case 'resolution':
    case 'first_contact_resolution':
    case 'resolved': {
      const column = metric === 'first_response' ? 't.first_response_at' : 't.resolved_at';
      let q = tickets().where(inPeriod(column));
      if (metric !== 'first_response') q = q.where('t.state', 'in', ['resolved', 'closed']);
      const total = await countOf(q);
      const rows = await q
        .select([
          ...TICKET_COLUMNS,
          't.first_response_at',
          't.resolved_at',
          't.public_reply_count',
          't.reopen_count',
          sql<string | null>`(select min(c.calendar_id) from clocks c where c.ticket_id = t.id and c.kind = ${metric === 'first_response' ? 'first_response' : 'resolution'})`.as('calendar'),
        ])
        .orderBy(column, 'desc')
        .limit(pageSize)
        .offset(page * pageSize)
        .execute();
      return {
        total,
        rows: rows.map((r) => {
          const end = metric === 'first_response' ? r.first_response_at! : r.resolved_at!;
          const ms = measures.get(r.calendar ?? deptCalendar(r.department_id)).between(Date.parse(r.created_at), Date.parse(end));
          const detail: BehindLine['detail'] =
            metric === 'first_contact_resolution' ? { kind: 'flag', yes: Number(r.public_reply_count) === 1 && Number(r.reopen_count) === 0 } : metric === 'resolved' ? { kind: 'none' } : { kind: 'duration', ms };
          return { ...ticketLine(r), detail };
        }),
      };
    }
    case 'on_time': {
      const q = tickets()
        .innerJoin('clocks as c', 'c.ticket_id', 't.id')
        .where(sql<boolean>`((c.breached_at >= ${from} and c.breached_at < ${to}) or (c.met_at >= ${from} and c.met_at < ${to} and c.breached_at is null))`);
      const total = await countOf(q);
      const rows = await q
        .select([...TICKET_COLUMNS, 'c.kind', 'c.breached_at'])
        .orderBy(sql`case when c.breached_at is null then 1 else 0 end`)
        .orderBy('t.created_at', 'desc')
        .limit(pageSize)
        .offset(page * pageSize)
        .execute();
      return { total, rows: rows.map((r) => ({ ...ticketLine(r), detail: { kind: 'clock', clock: r.kind, late: r.breached_at !== null } })) };
    }
    case 'return_rate': {
      const q = tickets().where((eb) =>
        eb.exists(eb.selectFrom('legs as l').select('l.id').whereRef('l.ticket_id', '=', 't.id').where('l.from_department_id', 'is not', null).where('l.opened_at', '>=', from).where('l.opened_at', '<', to)),
      );
      const total = await countOf(q);
      const rows = await q
        .select([
          ...TICKET_COLUMNS,
          sql<number>`(select count(*) from legs l where l.ticket_id = t.id and l.opened_at >= ${from} and l.opened_at < ${to} and (l.state = 'returned' or l.return_reason is not null))`.as('returned'),
        ])
        .orderBy('t.created_at', 'desc')
        .limit(pageSize)
        .offset(page * pageSize)
        .execute();
      return { total, rows: rows.map((r) => ({ ...ticketLine(r), detail: { kind: 'flag', yes: Number(r.returned) > 0 } })) };
    }
    case 'csat': {
      const q = tickets().innerJoin('surveys as s', 's.ticket_id', 't.id').where('s.answered_at', '>=', from).where('s.answered_at', '<', to);
      const total = await countOf(q);
      const rows = await q.select([...TICKET_COLUMNS, 's.score']).orderBy('s.score').orderBy('s.answered_at', 'desc').limit(pageSize).offset(page * pageSize).execute();
      return { total, rows: rows.map((r) => ({ ...ticketLine(r), detail: { kind: 'score', score: Number(r.score) } })) };
    }
    case 'reopen_rate': {
      const q = tickets().where((eb) =>
        eb.exists(eb.selectFrom('audit_events as a').select('a.id').whereRef('a.ticket_id', '=', 't.id').where('a.action', '=', 'reopened').where('a.at', '>=', from).where('a.at', '<', to)),
      );
      const total = await countOf(q);
      const rows = await q.select([...TICKET_COLUMNS]).orderBy('t.created_at', 'desc').limit(pageSize).offset(page * pageSize).execute();
      return { total, rows: rows.map((r) => ({ ...ticketLine(r), detail: { kind: 'none' } })) };
    }
    case 'backlog': {
      const q = tickets().where('t.state', 'in', OPEN);
      const total = await countOf(q);
      const rows = await q.select([...TICKET_COLUMNS]).orderBy('t.created_at').limit(pageSize).offset(page * pageSize).execute();
      return { total, rows: rows.map((r) => ({ ...ticketLine(r), detail: { kind: 'none' } })) };
    }
    case 'created':
    default: {
      const q = tickets().where(inPeriod('t.created_at'));
      const total = await countOf(q);
      const rows = await q.select([...TICKET_COLUMNS]).orderBy('t.created_at', 'desc').limit(pageSize).offset(page * pageSize).execute();
      return { total, rows: rows.map((r) => ({ ...ticketLine(r), detail: { kind: 'none' } })) };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Satisfaction answers, lowest scores first

export interface AnswerLine extends TicketLine {
  score: number;
  comment: string | null;
  answeredAt: string;
}

export async function loadAnswers(src: ReportSource, scope: ListScope, period: Pick<ReportFilter, 'fromMs' | 'toMs'>, page: number, pageSize: number): Promise<Paged<AnswerLine>> {
  const where = scoped(src, scope);
  if (where === false) return { rows: [], total: 0 };
  const q = src.db
    .selectFrom('surveys as s')
    .innerJoin('tickets as t', 't.id', 's.ticket_id')
    .leftJoin('users as asg', 'asg.id', 't.assignee_id')
    .leftJoin('users as req', 'req.id', 't.requester_id')
    .where(where as never)
    .where('s.answered_at', '>=', iso(period.fromMs))
    .where('s.answered_at', '<', iso(period.toMs));
  const total = Number((await q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst())?.n ?? 0);
  const rows = await q
    .select([...TICKET_COLUMNS, 's.score', 's.comment', 's.answered_at'])
    .orderBy('s.score')
    .orderBy('s.answered_at', 'desc')
    .limit(pageSize)
    .offset(page * pageSize)
    .execute();
  return { total, rows: rows.map((r) => ({ ...ticketLine(r), score: Number(r.score), comment: r.comment, answeredAt: r.answered_at })) };
}

// ---------------------------------------------------------------------------------------------
// Links to the ticket's thread in chat

export interface ThreadLink {
  platform: ChatPlatform;
  url: string;
}

/**
 * Where to open each ticket in chat, from the stored message ids: the department card's thread
 * (else the requester's thread). Slack: the web client's thread view of the card message,
 * `https://app.slack.com/client/{team}/{channel}/thread/{channel}-{ts}`, which needs no workspace
 * domain. Feishu: the AppLink that opens the chat holding the card
 * (`applink.feishu.cn/client/chat/open?openChatId=`); Feishu has no documented AppLink to a
 * single message.
 */
export async function loadThreadLinks(src: ReportSource, ticketIds: readonly string[]): Promise<Map<string, ThreadLink>> {
  const out = new Map<string, ThreadLink>();
  if (ticketIds.length === 0) return out;
  const rows = await src.db
    .selectFrom('chat_links')
    .select(['ticket_id', 'platform', 'workspace', 'channel', 'message_id', 'role', 'created_at'])
    .where('ticket_id', 'in', [...new Set(ticketIds)])
    .where('role', 'in', ['card', 'requester_thread'])
    .orderBy('created_at')
    .execute();
  const rank = (role: string) => (role === 'card' ? 0 : 1);
  const best = new Map<string, (typeof rows)[number]>();
  for (const r of rows) {
    const have = best.get(r.ticket_id);
    if (!have || rank(r.role) < rank(have.role)) best.set(r.ticket_id, r);
  }
  for (const [ticketId, r] of best) {
    if (r.platform === 'slack') {
      out.set(ticketId, { platform: 'slack', url: `https://app.slack.com/client/${encodeURIComponent(r.workspace)}/${encodeURIComponent(r.channel)}/thread/${encodeURIComponent(`${r.channel}-${r.message_id}`)}` });
    } else if (r.platform === 'feishu') {
      out.set(ticketId, { platform: 'feishu', url: `https://applink.feishu.cn/client/chat/open?openChatId=${encodeURIComponent(r.channel)}` });
    }
  }
  return out;
}
