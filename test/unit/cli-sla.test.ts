import { ROOT, runCli, type Run } from '../support/cli';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The sla and simulate commands run as real subprocesses (node with the tsx loader), started up
 * front, a few at a time, because each start costs a second or more; the tests then check exit
 * codes and output.
 */
const EXAMPLE = 'config/example.yaml';
const TICKETS = 'test/fixtures/simulate-tickets.csv';


const dir = mkdtempSync(join(tmpdir(), 'ticketbot-cli-'));
const brokenConfig = join(dir, 'broken.yaml');
writeFileSync(brokenConfig, readFileSync(join(ROOT, EXAMPLE), 'utf8').replace('calendar: cn-warehouse', 'calendar: nowhere'));
const badCsv = join(dir, 'bad.csv');
writeFileSync(badCsv, 'created_at,category,priority,requester\n2026-10-08T09:00:00Z,how-to,normal,U1\nnot-a-date,how-to,normal,U1\n');

// Each subprocess compiles the CLI on start; a few at a time keeps a small machine responsive.
const PARALLEL = 3;
jest.setTimeout(180_000);

function limited<T>(tasks: (() => Promise<T>)[]): Promise<T>[] {
  let next = 0;
  const gates = tasks.map(() => {
    let open!: () => void;
    return { opened: new Promise<void>((r) => (open = r)), open: () => open() };
  });
  const release = () => gates[next++]?.open();
  for (let i = 0; i < PARALLEL; i++) release();
  return tasks.map((task, i) => gates[i]!.opened.then(task).finally(release));
}

const runs: Record<string, Promise<Run>> = {};
const cases: Record<string, string[]> = {
  due: ['sla', 'due', '--config', EXAMPLE, '--calendar', 'cn-office', '--from', '2026-09-30T17:00:00+08:00', '--add', '2h', '--explain'],
  dueSpring: ['sla', 'due', '--config', EXAMPLE, '--calendar', 'cn-office', '--from', '2026-02-13T17:00', '--add', '10h', '--explain'],
  dueWorkingDays: ['sla', 'due', '--config', EXAMPLE, '--calendar', 'cn-office', '--from', '2026-02-12T20:00', '--add', '3wd', '--explain'],
  configCheck: ['config', 'check', EXAMPLE],
  between: ['sla', 'between', '--config', EXAMPLE, '--calendar', 'cn-office', '--from', '2026-09-30T00:00', '--to', '2026-10-11T00:00'],
  unknownCalendar: ['sla', 'due', '--config', EXAMPLE, '--calendar', 'mars', '--from', '2026-10-08T09:00:00Z', '--add', '2h'],
  badDuration: ['sla', 'due', '--config', EXAMPLE, '--calendar', 'cn-office', '--from', '2026-10-08T09:00:00Z', '--add', 'two hours'],
  badDate: ['sla', 'between', '--config', EXAMPLE, '--calendar', 'always', '--from', '2026-10-32', '--to', '2026-11-01T00:00:00Z'],
  missingConfig: ['sla', 'due', '--config', join(dir, 'missing.yaml'), '--calendar', 'cn-office', '--from', '2026-10-08T09:00:00Z', '--add', '2h'],
  brokenConfig: ['sla', 'due', '--config', brokenConfig, '--calendar', 'cn-office', '--from', '2026-10-08T09:00:00Z', '--add', '2h'],
  simulateText: ['simulate', '--config', EXAMPLE, '--tickets', TICKETS],
  simulateJson: ['simulate', '--config', EXAMPLE, '--tickets', TICKETS, '--format', 'json'],
  simulateBadRow: ['simulate', '--config', EXAMPLE, '--tickets', badCsv],
};

beforeAll(() => {
  const names = Object.keys(cases);
  const started = limited(names.map((name) => () => cli(cases[name]!)));
  names.forEach((name, i) => (runs[name] = started[i]!));
});

const run = (name: keyof typeof cases) => runs[name]!;

describe('ticketbot sla', () => {
  it('due prints the ISO instant and, with --explain, the reasoning', async () => {
    const r = await run('due');
    expect(r.code).toBe(0);
    const [first, ...rest] = r.stdout.trim().split('\n');
    expect(first).toBe('2026-10-08T02:00:00.000Z');
    expect(rest.map((l) => l.trim())).toContain('2026-10-01..07 holiday skipped (国庆节)');
    expect(r.stderr).toBe('');
  });

  it('due --explain names the official make-up day used and the holiday skipped (region CN)', async () => {
    const r = await run('dueSpring');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim());
    expect(lines[0]).toBe('2026-02-24T02:30:00.000Z');
    expect(lines).toContain('2026-02-14 make-up workday (春节)');
    expect(lines).toContain('2026-02-15..23 holiday skipped (春节)');
  });

  it('due --add 3wd counts working days from the next working period, across Spring Festival', async () => {
    const r = await run('dueWorkingDays');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim());
    expect(lines[0]).toBe('2026-02-25T01:00:00.000Z');
    expect(lines).toEqual(
      expect.arrayContaining([
        'starts outside working hours: counts from 2026-02-13 09:00',
        '2026-02-14 make-up workday (春节): working day 1',
        '2026-02-15..23 holiday skipped (春节)',
        '2026-02-24 working day 2',
        '2026-02-25 working day 3',
      ]),
    );
  });

  it('between prints business milliseconds; zone-less times are local to the calendar', async () => {
    const r = await run('between');
    expect(r).toMatchObject({ code: 0, stdout: `${30 * 3_600_000}\n` });
  });

  it.each([
    ['unknownCalendar', /^error: unknown calendar "mars" \(known: always, cn-office, cn-ops-24x7, cn-warehouse\)$/],
    ['badDuration', /^error: --add: not a duration: "two hours"/],
    ['badDate', /^error: --from: not an ISO-8601 date-time: "2026-10-32"/],
    ['missingConfig', /^error: config file not found: .*missing\.yaml$/],
  ] as const)('%s prints one clear line and exits 2', async (name, message) => {
    const r = await run(name);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr.trim()).toMatch(message);
  });

  it('a config with problems prints them and exits 1', async () => {
    const r = await run('brokenConfig');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('departments[4].calendar: unknown calendar "nowhere"');
  });
});

describe('ticketbot config check', () => {
  it('passes the example and warns about years its region has no official data for', async () => {
    const r = await run('configCheck');
    expect(r.code).toBe(0);
    const published = require('chinese-days/dist/chinese-days.json') as { holidays: Record<string, string> };
    const next = new Date().getUTCFullYear() + 1;
    const hasNext = Object.keys(published.holidays).some((d) => d.startsWith(String(next)));
    if (!hasNext) expect(r.stdout).toContain(`warning: calendars.cn-office: region CN has no official holidays for ${next}`);
    expect(r.stdout).toMatch(/config\/example\.yaml: ok \(5 departments/);
  });
});

describe('ticketbot simulate', () => {
  it('prints tickets and a summary as text', async () => {
    const r = await run('simulateText');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('T1  2026-09-30T08:00:00.000Z  how-to  normal  → cs  cs-agent-1');
    expect(r.stdout).toContain('on-time rate: 76.5% (13 of 17)');
    expect(r.stderr).toBe(''); // no progress bar when stderr is not a terminal
  });

  it('prints JSON on request', async () => {
    const r = await run('simulateJson');
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as { tickets: unknown[]; summary: { onTime: { met: number; breached: number } } };
    expect(parsed.tickets).toHaveLength(10);
    expect(parsed.summary.onTime).toMatchObject({ met: 13, breached: 4 });
  });

  it('a bad CSV row exits 2 naming the line', async () => {
    const r = await run('simulateBadRow');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^error: .*bad\.csv line 3: created_at: not an ISO-8601 date-time: "not-a-date"$/);
  });
});

function cli(args: string[]) {
  return runCli(args);
}
