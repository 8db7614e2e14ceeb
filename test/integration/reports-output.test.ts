import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load';
import { parse } from 'csv-parse/sync';
import { calendarsFromConfig } from '../../src/domain/calendar';
import { generateProcessDoc, policySummary } from '../../src/reports/docs';
import { CSV_BOM, csvField, csvText, exportTicketsCsv, metricsCsv } from '../../src/reports/export';
import { METRIC_DEFINITIONS } from '../../src/reports/definitions';
import { reportKeys } from '../../src/reports/i18n';
import { loadMetrics, type ReportSource } from '../../src/reports/queries';
import { buildWeeklyDigest, formatStatsText, statsSummary } from '../../src/reports/stats';
import type { Storage } from '../../src/storage/database';
import { insertReportFixture, NOW_MS, PERIOD, reportConfig } from '../fixtures/reports';
import { storageVariants } from '../support/storage';

const config = reportConfig();
const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

describe('report copy', () => {
  it('has every key in both languages', () => {
    expect(reportKeys('zh-CN')).toEqual(reportKeys('en'));
  });
});

describe('CSV quoting', () => {
  it('quotes delimiters, quotes and line breaks, and defuses formulas', () => {
    expect(csvField('plain 中文')).toBe('plain 中文');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(null)).toBe('');
    expect(csvText('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
  });
});

describe('written process', () => {
  it('defines the six metrics in the written process, from the one source text', () => {
    const en = generateProcessDoc(config, 'en', new Date('2026-03-02T00:00:00Z'));
    expect(en).toContain('## What the figures mean');
    expect(en).toContain(`- First-contact resolution: ${METRIC_DEFINITIONS.first_contact_resolution.en}`);
    expect(generateProcessDoc(config, 'zh-CN', new Date('2026-03-02T00:00:00Z'))).toContain(`- 退回率:${METRIC_DEFINITIONS.return_rate['zh-CN']}`);
  });

  it('writes the diagram, roles, categories, SLA/OLA tables, ladder and rules in both languages', () => {
    const en = generateProcessDoc(config, 'en', new Date('2026-03-02T00:00:00Z'));
    expect(en).toContain('```mermaid\nstateDiagram-v2');
    expect(en).toContain('## Responsibilities');
    expect(en).toContain('  - Login');
    expect(en).toContain('    - Wrong password (required: Account)');
    expect(en).toMatch(/\| urgent \| priority Urgent \| 15 minutes \| — \| 4 hours \| around the clock \| Finance \|/);
    expect(en).toMatch(/\| Finance \| 1 working hour \| 48 working hours \| business time, cn-office \|/);
    expect(en).toMatch(/\| 2 \| 100% of the limit \| department channel, supervisors \| — \| no \|/);
    expect(en).toContain('A handoff can be returned only with a reason: Missing information.');
    const zh = generateProcessDoc(config, 'zh-CN', new Date('2026-03-02T00:00:00Z'));
    expect(zh).toContain('## 服务时限(SLA)');
    expect(zh).toContain('    - 密码错误 (必填:账号)');
    expect(zh).toContain('state "等待提单人" as waiting_on_requester');
    // Business time never reads as days; the calendars name their official holiday source.
    expect(zh).not.toMatch(/\d天/);
    expect(zh).toContain('48 工作小时');
    const example = loadConfigFile(join(__dirname, '../../config/example.yaml'));
    expect(generateProcessDoc(example, 'zh-CN', new Date('2026-03-02T00:00:00Z'))).toMatch(/CN 法定节假日与调休\(chinese-days \d/);
    expect(generateProcessDoc(example, 'en', new Date('2026-03-02T00:00:00Z'))).toMatch(/official holidays and make-up workdays of CN \(chinese-days \d/);
  });

  it('summarises the policy for chat, leaving pilot-only rules out', () => {
    const lines = policySummary(config, 'en');
    expect(lines[0]).toBe('How the desk works');
    expect(lines).toContain('High: first response 4 working hours, resolution 24 working hours (business time, cn-office)');
    expect(lines.some((l) => l.startsWith('Urgent'))).toBe(false);
    expect(policySummary(config, 'zh-CN')).toContain('转交给财务部:1 工作小时 内接受,48 工作小时 内解决。');
    // The metric definitions are the same text as the dashboard's "?" (reports/definitions.ts).
    expect(policySummary(config, 'zh-CN')).toContain(`按时率:${METRIC_DEFINITIONS.on_time['zh-CN']}`);
    expect(lines).toContain(`Satisfaction (4–5): ${METRIC_DEFINITIONS.csat.en}`);
  });
});

describe.each(storageVariants())('exports and stats on $name', (variant) => {
  let storage: Storage;
  let src: ReportSource;
  const calendars = calendarsFromConfig(config.raw);

  beforeAll(async () => {
    storage = await variant.open();
    await insertReportFixture(storage.db);
    src = { db: storage.db, config, calendars };
  });
  afterAll(async () => storage.close());

  it('exports tickets as UTF-8 CSV with a BOM, the right columns and Chinese text intact', async () => {
    let csv = '';
    const progress: [number, number][] = [];
    const rows = await exportTicketsCsv(src, PERIOD, 'zh-CN', (chunk) => void (csv += chunk), (done, total) => progress.push([done, total]));
    expect(rows).toBe(6);
    expect(progress.at(-1)).toEqual([6, 6]);
    expect(csv.startsWith(CSV_BOM)).toBe(true);
    expect(csv).toContain('\r\n');
    const parsed: string[][] = parse(Buffer.from(csv, 'utf8').toString('utf8'), { bom: true });
    expect(parsed[0]).toEqual([
      '工单号', '标题', '部门', '接单部门', '分类', '优先级', '状态', '提单人', '处理人',
      '创建时间(Asia/Shanghai,YYYY-MM-DD HH:mm:ss)', '创建时间(ISO 8601,UTC)', '首次响应时间(Asia/Shanghai,YYYY-MM-DD HH:mm:ss)', '首次响应时间(ISO 8601,UTC)',
      '解决时间(Asia/Shanghai,YYYY-MM-DD HH:mm:ss)', '解决时间(ISO 8601,UTC)', '关闭时间(Asia/Shanghai,YYYY-MM-DD HH:mm:ss)', '关闭时间(ISO 8601,UTC)',
      '首次响应(工作分钟)', '解决时长(工作分钟)', '公开回复数', '重新打开次数', '转交次数', '退回次数', '满意度(1–5 分)', '评价',
    ]);
    const t1 = parsed.find((r) => r[0] === 'T1')!;
    expect(t1.slice(1, 7)).toEqual(['Ticket t1 登录不了', '信息技术部', '信息技术部', '故障类 / 登录问题 / 密码错误', '中等', '已关闭']);
    // Created Friday 17:00 in Shanghai; the ISO column keeps the instant.
    expect(t1.slice(9, 11)).toEqual(['2026-03-06 17:00:00', '2026-03-06T09:00:00.000Z']);
    // A requester the platform never named is "unknown (Slack)", not slack:T1:UREQ.
    expect(t1[7]).toBe('未知用户(Slack)');
    expect(t1[17]).toBe('90'); // 1h on Friday + 30m on Monday
    expect(t1[23]).toBe('5');
    const t3 = parsed.find((r) => r[0] === 'T3')!;
    expect([t3[21], t3[22]]).toEqual(['2', '1']);
    expect(parsed.find((r) => r[0] === 'T6')![24]).toBe('还行,但是等了很久');
  });

  it('exports metrics per scope', async () => {
    const report = await loadMetrics(src, PERIOD, NOW_MS);
    const parsed: string[][] = parse(metricsCsv('en', [{ scope: 'all departments', report }]), { bom: true });
    expect(parsed[0]).toEqual(['Scope', 'Metric', 'Value', 'Unit', 'Based on']);
    expect(parsed.find((r) => r[1] === 'On-time rate')).toEqual(['all departments', 'On-time rate', '78.57', '%', '14']);
    expect(parsed.find((r) => r[1] === 'Avg resolution')).toEqual(['all departments', 'Avg resolution', '390', 'business minutes', '4']);
  });

  it('summarises stats against the previous period and renders them as text', async () => {
    const ctx = { db: storage.db, config, calendars, time: { now: () => new Date(PERIOD.toMs) } };
    const result = await statsSummary(ctx, { days: 7 });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const view = result.value;
    const onTime = view.figures.find((f) => f.metric === 'on_time')!;
    // This week (from 2026-03-08T16:00Z): T1 FRT + resolution met, T4 FRT breached, T8 leg accepted → 3/4.
    expect(onTime.value).toBe(0.75);
    expect(onTime.previous).toBe(8 / 10);
    expect(onTime.trend).toBe('down');
    // This week's only handoff (T8 → finance) is still open, so no leg has a duration yet.
    expect(view.slowestFlow).toBeUndefined();
    const month = await statsSummary(ctx, { days: 30 });
    expect(month.ok && month.value.slowestFlow).toMatchObject({ from: { en: 'IT' }, to: { en: 'Finance' }, meanMs: 3 * 3_600_000, handoffs: 3 });
    expect(view.pilots).toHaveLength(1);
    const text = formatStatsText(view, 'en');
    expect(text.split('\n')[0]).toBe('Ticket stats · all departments · last 7 days (2026-03-09 – 2026-03-15)');
    // 3 of 4 against 8 of 10: said in points, and 4 clocks cannot tell that from noise.
    expect(text).toContain('• On-time rate 75%, 5 pt lower than the previous period, within normal variation (4 clocks completed)');
    expect(formatStatsText(view, 'zh-CN')).toContain('• 按时率 75%,比上一期低 5 个百分点,在正常波动范围内(4 个时钟结束)');
    const week = await statsSummary(ctx, { days: 7, period: { kind: 'last_week' } });
    expect(week.ok && formatStatsText(week.value, 'zh-CN').split('\n')[0]).toBe('工单统计 · 全部部门 · 2026-03-09 – 2026-03-15');
    const unknown = await statsSummary(ctx, { departmentId: 'nope', days: 7 });
    expect(unknown).toEqual({ ok: false, error: { code: 'ticket.unknown_department', params: { department: 'nope' } } });
  });

  it('builds the weekly digest with a PNG chart for each target channel', async () => {
    const digest = await buildWeeklyDigest({ db: storage.db, config, calendars, time: { now: () => new Date(0) } }, new Date(PERIOD.toMs));
    expect(digest).toHaveLength(1);
    expect(digest[0]).toMatchObject({ platform: 'slack', channelId: 'CLEADS', locale: 'en', chartFileName: 'tickets-2026-03-15.png' });
    expect(digest[0]!.text.split('\n')[0]).toBe('Weekly ticket report · all departments · 2026-03-09 – 2026-03-15');
    expect([...digest[0]!.chartPng.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(digest[0]!.chartPng.length).toBeGreaterThan(5000);
    // One bar per day of the week, Monday to Sunday.
    expect(digest[0]!.view.byDay.map((d) => d.day)).toEqual(['2026-03-09', '2026-03-10', '2026-03-11', '2026-03-12', '2026-03-13', '2026-03-14', '2026-03-15']);
    expect(digest[0]!.text).toMatch(/^• Avg first response .+ than the week before/m);
  });

  it('covers the last full calendar week even when run mid-week', async () => {
    // Wednesday 2026-03-11 10:00 in Shanghai: the digest is about Monday 2 to Sunday 8 March.
    const digest = await buildWeeklyDigest({ db: storage.db, config, calendars, time: { now: () => new Date(0) } }, new Date('2026-03-11T02:00:00Z'));
    expect(digest[0]!.text.split('\n')[0]).toBe('Weekly ticket report · all departments · 2026-03-02 – 2026-03-08');
    expect(digest[0]!.view.period.previousFirstDay).toBe('2026-02-23');
  });
});
