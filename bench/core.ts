import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Benchmark } from './harness';

/** Issue 3: creating tickets through the use cases (routing, clocks, audit, outbox — all of it). */
export const coreBenchmark: Benchmark = {
  name: 'core-create',
  async run({ quick }) {
    const count = quick ? 2_000 : 100_000;
    const rows: string[] = [];
    for (const dialect of ['sqlite', 'postgres']) {
      const out = execFileSync(join(__dirname, '..', 'node_modules', '.bin', 'tsx'), [join(__dirname, 'workers', 'create-tickets.ts'), dialect, String(count)], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 20,
      });
      const r = JSON.parse(out.trim().split('\n').at(-1)!) as { tickets: number; seconds: number; perSecond: number; peakRssMiB: number };
      rows.push(`| ${dialect === 'sqlite' ? 'SQLite (file, WAL)' : 'PostgreSQL 15 (loopback)'} | ${r.tickets.toLocaleString('en')} | ${r.seconds.toFixed(1)} s | ${Math.round(r.perSecond).toLocaleString('en')} | ${r.peakRssMiB.toFixed(0)} MiB |`);
    }
    return [
      '## Ticket creation through the core (issue 3)',
      '',
      'Each ticket: category and field checks, key sequence, routing, leg, first-response and resolution clocks with their timers, audit row, inbox key and outbox rows — one transaction per ticket, one ticket at a time (no batching). Aim: ≥ 1,000 tickets/s on SQLite.',
      '',
      '| database | tickets | time | tickets/s | peak RSS |',
      '|---|---|---|---|---|',
      ...rows,
    ].join('\n');
  },
};
