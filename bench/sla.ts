import { join } from 'node:path';
import { loadConfigFile } from '../src/config/load';
import { calendarsFromConfig, compileCalendar, type BusinessCalendar } from '../src/domain/calendar';
import { startClock, type ClockState } from '../src/domain/clock';
import { compileLadder, evaluateLadder } from '../src/domain/escalation';
import type { Benchmark } from './harness';

const H = 3_600_000;
const M = 60_000;

/** Deterministic pseudo-random numbers so every run measures the same work. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface Row {
  what: string;
  ops: number;
  totalMs: number;
}

function measure(what: string, ops: number, body: (i: number) => void): Row {
  for (let i = 0; i < Math.min(ops, 2000); i++) body(i); // warm-up: JIT and the zone's offset table
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) body(i);
  return { what, ops, totalMs: Number(process.hrtime.bigint() - start) / 1e6 };
}

/**
 * Due-time computations over the example's cn-office calendar (lunch break, National Day week,
 * make-up Saturdays) from random instants in 2026 with durations of 15 minutes to 5 days, and
 * ladder evaluations of the example ladder on running clocks at random points of their life.
 */
export const slaBenchmark: Benchmark = {
  name: 'sla',
  async run({ quick }) {
    const ops = quick ? 10_000 : 100_000;
    const config = loadConfigFile(join(__dirname, '../config/example.yaml'));
    const calendars = calendarsFromConfig(config.raw);
    const cnOffice = calendars.get('cn-office')!;
    const yearStart = Date.parse('2026-01-01T00:00:00+08:00');
    const random = lcg(7);

    const starts = Array.from({ length: ops }, () => yearStart + Math.floor(random() * 365 * 24 * 60) * M);
    const durations = Array.from({ length: ops }, () => (15 + Math.floor(random() * (5 * 24 * 60 - 15))) * M);
    let sink = 0;
    const rows: Row[] = [];
    rows.push(measure('due time, cn-office, 15m–5d', ops, (i) => (sink += cnOffice.add(starts[i]!, durations[i]!))));
    rows.push(measure('business time between, cn-office', ops, (i) => (sink += cnOffice.between(starts[i]!, starts[i]! + durations[i]! * 3))));

    const ladder = compileLadder(config.raw.escalation);
    const clocks: ClockState[] = Array.from({ length: 1000 }, (_, i) =>
      startClock({ kind: 'first_response', targetMs: 4 * H, calendar: cnOffice, policyId: 'normal', now: new Date(starts[i]!).toISOString() }),
    );
    const nows = Array.from({ length: ops }, (_, i) => new Date(Date.parse(clocks[i % clocks.length]!.startedAt) + Math.floor(random() * 10 * 24) * H).toISOString());
    const fired = new Set<string>();
    rows.push(
      measure('ladder evaluation, cn-office, 3 levels', ops, (i) => {
        const r = evaluateLadder({ clockId: `c${i % clocks.length}`, clock: clocks[i % clocks.length]!, ladder, calendar: cnOffice, now: nows[i]!, fired });
        sink += r.due.length;
      }),
    );

    // The worst case: one working day a week (in a DST zone) and a year of business time.
    const wednesdays: BusinessCalendar = compileCalendar('wednesdays', { timezone: 'Europe/Berlin', week: { wed: ['09:00-17:00'] }, holidays: [], workdays: [] });
    const longOps = quick ? 1000 : 10_000;
    rows.push(measure('due time, 1 day a week (Berlin), 52 × 8h', longOps, (i) => (sink += wednesdays.add(starts[i]!, 52 * 8 * H))));
    rows.push(measure('due time, cn-office, 1 year (8760h) of business time', longOps, (i) => (sink += cnOffice.add(starts[i]!, 365 * 24 * H))));

    if (sink === 42) console.error('(unlikely)'); // keeps the results observable so nothing is optimised away
    const table = rows.map((r) => `| ${r.what} | ${r.ops.toLocaleString('en-US')} | ${r.totalMs.toFixed(0)} | ${((r.totalMs * 1000) / r.ops).toFixed(2)} |`);
    return ['## SLA engine', '', '| operation | ops | total ms | µs/op |', '|---|---:|---:|---:|', ...table].join('\n');
  },
};
