import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load';
import { calendarsFromConfig } from '../../src/domain/calendar';
import { loadMetrics, type ReportSource } from '../../src/reports/queries';
import { openStorage } from '../../src/storage/database';

/**
 * Times loadMetrics on an existing SQLite file (e.g. the one `bench/import.ts --import-child`
 * leaves): periods on report-day boundaries and periods counted back from an instant that is not
 * (as `/ticket stats` "last N days"), one department and all. Prints one JSON line, ms per run.
 * Usage: tsx bench/workers/report-periods.ts FILE.db|postgres://… [endIso] [runs] [pgSchema]
 */
async function main(): Promise<void> {
  const [file, endText, runsText, pgSchema] = process.argv.slice(2);
  const storage = await openStorage(file!.startsWith('postgres') ? { databaseUrl: file!, pgSchema, poolSize: 4 } : { sqliteFile: file! });
  const config = loadConfigFile(join(__dirname, '..', '..', 'config', 'example.yaml'));
  const src: ReportSource = { db: storage.db, config, calendars: calendarsFromConfig(config.raw) };
  const DAY = 86_400_000;
  // Asia/Shanghai midnight (the example config's report zone) and an instant that is not one.
  const midnight = Date.parse(endText ?? '2026-03-31T16:00:00Z');
  const now = midnight - 5 * 3_600_000 - 23 * 60_000 - 17_000;
  const runs = Number(runsText ?? 3);
  const dept = [...config.departments.keys()][0]!;
  const cases: [string, { fromMs: number; toMs: number; departmentIds?: string[] }, number][] = [
    ['one dept, 30 whole days', { fromMs: midnight - 30 * DAY, toMs: midnight, departmentIds: [dept] }, midnight],
    ['all depts, 30 whole days', { fromMs: midnight - 30 * DAY, toMs: midnight }, midnight],
    ['one dept, last 7 days from now', { fromMs: now - 7 * DAY, toMs: now, departmentIds: [dept] }, now],
    ['one dept, last 30 days from now', { fromMs: now - 30 * DAY, toMs: now, departmentIds: [dept] }, now],
    ['all depts, last 30 days from now', { fromMs: now - 30 * DAY, toMs: now }, now],
    ['all depts, last 365 days from now', { fromMs: now - 365 * DAY, toMs: now }, now],
  ];
  // BENCH_REPORT_CASES=1,4 runs only those cases (1-based), so a process's peak RSS belongs to them.
  const only = process.env.BENCH_REPORT_CASES?.split(',').map((n) => cases[Number(n) - 1]!);
  const chosen = only ?? cases;
  await loadMetrics(src, chosen[0]![1], chosen[0]![2]);
  const out: Record<string, number[]> = {};
  for (const [name, filter, nowMs] of chosen) {
    out[name] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = process.hrtime.bigint();
      await loadMetrics(src, filter, nowMs);
      out[name].push(Math.round(Number(process.hrtime.bigint() - t0) / 1e6));
    }
  }
  await storage.close();
  console.log(JSON.stringify({ ...out, peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
