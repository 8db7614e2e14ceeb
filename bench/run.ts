import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { machineLine, type Benchmark } from './harness';
import { benchmarks } from './registry';

/** Runs the benchmarks and rewrites the sections they produce in bench/RESULTS.md. */
async function main(): Promise<void> {
  const program = new Command('bench')
    .description('Run ticketbot benchmarks and write bench/RESULTS.md')
    .option('--only <names>', 'comma-separated benchmark names')
    .option('--quick', 'smaller sizes (for a smoke run)', false)
    .parse();
  const opts = program.opts<{ only?: string; quick: boolean }>();
  const wanted = opts.only ? new Set(opts.only.split(',')) : undefined;
  const selected: Benchmark[] = benchmarks.filter((b) => !wanted || wanted.has(b.name));
  if (selected.length === 0) {
    console.error(`no benchmark matches; known: ${benchmarks.map((b) => b.name).join(', ')}`);
    process.exit(2);
  }
  const file = join(__dirname, 'RESULTS.md');
  for (const bench of selected) {
    console.error(`running ${bench.name}…`);
    const body = await bench.run({ quick: opts.quick });
    // Re-read just before writing: another run may have replaced other sections meanwhile.
    const sections = readSections(file);
    sections.set(bench.name, `<!-- bench:${bench.name} -->\n_${machineLine()}_${opts.quick ? ' (quick run)' : ''}\n\n${body.trim()}\n`);
    writeResults(file, sections);
  }
}

function readSections(file: string): Map<string, string> {
  const map = new Map<string, string>();
  if (!existsSync(file)) return map;
  const parts = readFileSync(file, 'utf8').split(/(?=<!-- bench:)/);
  for (const part of parts) {
    const m = /^<!-- bench:([\w-]+) -->/.exec(part);
    if (m) map.set(m[1]!, part.trimEnd() + '\n');
  }
  return map;
}

function writeResults(file: string, sections: Map<string, string>): void {
  const head = '# Benchmark results\n\nWritten by `npm run bench` (each section is replaced when its benchmark runs again). Compare ratios within one run: the machines are shared.\n\n';
  writeFileSync(file, head + [...sections.values()].join('\n'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
