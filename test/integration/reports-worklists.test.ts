import { calendarsFromConfig } from '../../src/domain/calendar';
import { compareReports } from '../../src/reports/figures';
import { loadMetrics, type ReportSource } from '../../src/reports/queries';
import { loadAnswers, loadDueSoon, loadThreadLinks, loadTicketsBehind, loadWorkload } from '../../src/reports/worklists';
import type { Storage } from '../../src/storage/database';
import { ANN, insertReportFixture, NOW_MS, PERIOD, reportConfig } from '../fixtures/reports';
import { storageVariants } from '../support/storage';

const config = reportConfig();
const H = 3_600_000;

describe.each(storageVariants())('dashboard work lists on $name', (variant) => {
  let storage: Storage;
  let src: ReportSource;

  beforeAll(async () => {
    storage = await variant.open();
    await insertReportFixture(storage.db);
    await storage.db.updateTable('clocks').set({ due_at: '2026-03-12T07:30:00.000Z' }).where('ticket_id', '=', 't4').where('kind', '=', 'first_response').execute();
    await storage.db.updateTable('clocks').set({ due_at: '2026-03-20T02:00:00.000Z' }).where('ticket_id', '=', 't8').where('kind', '=', 'first_response').execute();
    await storage.db.updateTable('tickets').set({ assignee_id: ANN }).where('id', 'in', ['t4', 't8']).execute();
    await storage.db
      .insertInto('users')
      .values({ id: ANN, platform: 'slack', workspace: 'T1', platform_user_id: 'UANN', name: 'Ann', email: null, locale: null, timezone: null, away_until: null, is_bot: 0, created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z' })
      .execute();
    const link = (ticket_id: string, platform: string, channel: string, message_id: string, role: string) => ({
      platform, workspace: 'T1', channel, message_id, ticket_id, leg_id: null, role, card_version: 1, created_at: '2026-03-01T00:00:00.000Z', updated_at: '2026-03-01T00:00:00.000Z',
    });
    await storage.db.insertInto('chat_links').values([link('t1', 'slack', 'CREQ', '111.000', 'requester_thread'), link('t1', 'slack', 'CIT', '222.000', 'card'), link('t3', 'feishu', 'oc_fin', 'om_1', 'card')]).execute();
    src = { db: storage.db, config, calendars: calendarsFromConfig(config.raw) };
  });
  afterAll(async () => storage.close());

  it('lists the tickets behind each figure: as many as the figure is based on', async () => {
    const report = await loadMetrics(src, PERIOD, NOW_MS);
    const previous = await loadMetrics(src, { fromMs: PERIOD.fromMs - 14 * 24 * H, toMs: PERIOD.fromMs }, NOW_MS);
    for (const f of compareReports(report, previous)) {
      if (f.metric === 'backlog' || f.metric === 'reopen_rate') continue;
      const list = await loadTicketsBehind(src, f.metric, {}, PERIOD, 0, 100);
      expect({ metric: f.metric, total: list.total, rows: list.rows.length }).toEqual({ metric: f.metric, total: f.basis, rows: f.basis });
    }
    const frt = await loadTicketsBehind(src, 'first_response', {}, PERIOD, 0, 100);
    // T1: Friday 17:00 → Monday 09:30 in Shanghai is 1.5 business hours.
    expect(frt.rows.find((r) => r.key === 'T1')!.detail).toEqual({ kind: 'duration', ms: 1.5 * H });
    const late = (await loadTicketsBehind(src, 'on_time', {}, PERIOD, 0, 100)).rows.filter((r) => r.detail.kind === 'clock' && r.detail.late);
    expect(late.map((r) => r.key).sort()).toEqual(['T2', 'T3', 'T4']);
    const finance = await loadTicketsBehind(src, 'created', { departmentIds: ['finance'] }, PERIOD, 0, 100);
    expect(finance.rows.map((r) => r.key).sort()).toEqual(['T3', 'T8']);
  });

  it('pages the satisfaction answers, lowest score first', async () => {
    const first = await loadAnswers(src, {}, PERIOD, 0, 1);
    const second = await loadAnswers(src, {}, PERIOD, 1, 1);
    expect(first.total).toBe(2);
    expect([first.rows[0]!.score, first.rows[0]!.comment, second.rows[0]!.score]).toEqual([3, '还行,但是等了很久', 5]);
    expect(first.rows[0]!.requester).toEqual({ id: 'slack:T1:UREQ', name: null });
  });

  it('lists due and overdue clocks soonest first, and the load per agent', async () => {
    const now = Date.parse('2026-03-20T00:00:00Z');
    const due = await loadDueSoon(src, {}, now, 4 * H);
    expect(due.map((d) => [d.key, d.clockKind, d.dueAt])).toEqual([
      ['T4', 'first_response', '2026-03-12T07:30:00.000Z'],
      ['T8', 'first_response', '2026-03-20T02:00:00.000Z'],
    ]);
    expect(await loadDueSoon(src, {}, now, 1 * H)).toHaveLength(1);
    expect(await loadDueSoon(src, { departmentIds: ['finance'] }, now, 4 * H)).toHaveLength(1);
    const [ann, ...others] = await loadWorkload(src, {}, PERIOD, now, 4 * H);
    // Ann: T4 and T8 open, both due; resolved T1 and T2 in the period. Clocks completed in the
    // period on her tickets: T1's two met, T2's two met and one breached, T4's breached, T8's leg accept met.
    expect(ann).toEqual({ agent: { id: ANN, name: 'Ann' }, open: 2, dueSoon: 2, resolved: 2, onTime: 5, late: 2 });
    expect(others).toEqual([]);
  });

  it('links a ticket to its card thread in Slack and its chat in Feishu', async () => {
    const links = await loadThreadLinks(src, ['t1', 't3', 't5']);
    expect(links.get('t1')).toEqual({ platform: 'slack', url: 'https://app.slack.com/client/T1/CIT/thread/CIT-222.000' });
    expect(links.get('t3')).toEqual({ platform: 'feishu', url: 'https://applink.feishu.cn/client/chat/open?openChatId=oc_fin' });
    expect(links.has('t5')).toBe(false);
  });
});
