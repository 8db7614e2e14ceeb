import { createWriteStream, writeFileSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { Command, Option } from 'commander';
import { readEnv } from '../config/env';
import { loadConfigFile } from '../config/load';
import { locateConfig } from '../config/locate';
import type { Config } from '../config/model';
import { calendarsFromConfig } from '../domain/calendar';
import { LOCALES, type Locale } from '../domain/types';
import type { Storage } from '../storage/database';
import { action, configureCommand, EXIT_OK, EXIT_PROBLEM, UsageError } from './common';
import { openExistingStorage } from './database';

// Each command requires what it uses when it runs (docs needs no database, stats no CSV or chart code).
const reportsDocs = () => require('../reports/docs') as typeof import('../reports/docs');
const reportsExport = () => require('../reports/export') as typeof import('../reports/export');
const reportsQueries = () => require('../reports/queries') as typeof import('../reports/queries');
const reportsStats = () => require('../reports/stats') as typeof import('../reports/stats');

/** `ticketbot docs | export | stats`: the written process, CSV exports and a quick stats view. */

function loadConfig(file: string | undefined): Config {
  return loadConfigFile(file ?? locateConfig().path);
}

function parseInstant(text: string, flag: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}(T.*)?$/.test(text) ? Date.parse(text) : NaN;
  if (Number.isNaN(ms)) throw new UsageError(`${flag} "${text}" is not an ISO date (e.g. 2026-03-01 or 2026-03-01T00:00:00Z)`);
  return ms;
}

function checkDepartment(config: Config, id: string | undefined): void {
  if (id !== undefined && !config.departments.has(id)) throw new UsageError(`unknown department "${id}" (known: ${[...config.departments.keys()].join(', ')})`);
}

/** Opens the existing database (never creating one) for a read command. */
async function withStorage<T>(fn: (storage: Storage) => Promise<T>): Promise<T> {
  const storage = await openExistingStorage(readEnv());
  try {
    return await fn(storage);
  } finally {
    await storage.close();
  }
}

/** Writes to a file or stdout, waiting when the stream's buffer is full. */
function sink(out: string | undefined): { write(chunk: string): Promise<void>; end(): Promise<void> } {
  const stream: WriteStream | NodeJS.WriteStream = out ? createWriteStream(out, { encoding: 'utf8' }) : process.stdout;
  return {
    async write(chunk) {
      if (!stream.write(chunk)) await once(stream, 'drain');
    },
    async end() {
      if (out) {
        (stream as WriteStream).end();
        await once(stream, 'finish');
      }
    },
  };
}

const localeOption = () => new Option('--locale <locale>', 'language of the output').choices([...LOCALES]);

export function registerReportCommands(program: Command): void {
  configureCommand(
    program
      .command('docs')
      .description('write the process in force (diagram, roles, categories, SLA/OLA, escalation, closing) as Markdown')
      .option('--out <file>', 'write to a file instead of stdout')
      .option('--config <file>', 'config file (default: $TICKETBOT_CONFIG or ./ticketbot.yaml)')
      .addOption(localeOption()),
  ).action(
    action((opts: { out?: string; config?: string; locale?: Locale }) => {
      const config = loadConfig(opts.config);
      const markdown = reportsDocs().generateProcessDoc(config, opts.locale ?? config.raw.locale, new Date());
      if (opts.out) {
        writeFileSync(opts.out, markdown + '\n');
        console.error(`wrote ${opts.out}`);
      } else {
        process.stdout.write(markdown + '\n');
      }
      return EXIT_OK;
    }),
  );

  configureCommand(
    program
      .command('export')
      .description('export tickets created in a period, or their metrics, as CSV (UTF-8 with BOM for Excel)')
      .requiredOption('--from <iso>', 'start of the period (inclusive), e.g. 2026-03-01')
      .requiredOption('--to <iso>', 'end of the period (exclusive), e.g. 2026-04-01')
      .option('--department <id>', 'only this department')
      .addOption(new Option('--kind <kind>', 'what to export').choices(['tickets', 'metrics']).default('tickets'))
      .option('--out <file>', 'write to a file instead of stdout')
      .option('--config <file>', 'config file (default: $TICKETBOT_CONFIG or ./ticketbot.yaml)')
      .addOption(localeOption()),
  ).action(
    action(async (opts: { from: string; to: string; department?: string; kind: 'tickets' | 'metrics'; out?: string; config?: string; locale?: Locale }) => {
      const fromMs = parseInstant(opts.from, '--from');
      const toMs = parseInstant(opts.to, '--to');
      if (toMs <= fromMs) throw new UsageError('--to must be after --from');
      const config = loadConfig(opts.config);
      checkDepartment(config, opts.department);
      const locale = opts.locale ?? config.raw.locale;
      const departmentIds = opts.department ? [opts.department] : undefined;
      const { departmentScopeName, exportTicketsCsv, metricsCsv } = reportsExport();
      const { loadMetrics } = reportsQueries();
      return withStorage(async (storage) => {
        const src = { db: storage.db, config, calendars: calendarsFromConfig(config.raw) };
        const out = sink(opts.out);
        if (opts.kind === 'metrics') {
          const { selfServiceFigures } = require('../reports/self-service') as typeof import('../reports/self-service');
          const selfService = (ids: string[] | undefined) => selfServiceFigures(storage.db, { fromMs, toMs, departmentIds: ids, articleLimit: 0 });
          const scopes = [{ scope: departmentScopeName(config, opts.department, locale), report: await loadMetrics(src, { fromMs, toMs, departmentIds }, Date.now()), selfService: await selfService(departmentIds) }];
          if (!opts.department) {
            for (const id of config.departments.keys())
              scopes.push({ scope: departmentScopeName(config, id, locale), report: await loadMetrics(src, { fromMs, toMs, departmentIds: [id] }, Date.now()), selfService: await selfService([id]) });
          }
          await out.write(metricsCsv(locale, scopes));
          await out.end();
          return EXIT_OK;
        }
        // A progress bar only on an interactive terminal: never in pipes, logs or CI output.
        const { SingleBar, Presets } = require('cli-progress') as typeof import('cli-progress');
        const bar = process.stderr.isTTY ? new SingleBar({ stream: process.stderr, clearOnComplete: true }, Presets.shades_classic) : undefined;
        const rows = await exportTicketsCsv(src, { fromMs, toMs, departmentIds }, locale, (chunk) => out.write(chunk), (done, total) => {
          if (!bar) return;
          if (done === 0) bar.start(total, 0);
          else bar.update(done);
        });
        bar?.stop();
        await out.end();
        console.error(`${rows} ticket(s) exported${opts.out ? ` to ${opts.out}` : ''}`);
        return EXIT_OK;
      });
    }),
  );

  configureCommand(
    program
      .command('stats')
      .description('the six core metrics for the last 7 or 30 days against the period before')
      .option('--department <id>', 'only this department')
      .addOption(new Option('--days <n>', 'period length').choices(['7', '30']).default('7'))
      .option('--config <file>', 'config file (default: $TICKETBOT_CONFIG or ./ticketbot.yaml)')
      .addOption(localeOption()),
  ).action(
    action(async (opts: { department?: string; days: string; config?: string; locale?: Locale }) => {
      const config = loadConfig(opts.config);
      checkDepartment(config, opts.department);
      const { formatStatsText, statsSummary } = reportsStats();
      return withStorage(async (storage) => {
        const result = await statsSummary(
          { db: storage.db, config, calendars: calendarsFromConfig(config.raw), time: { now: () => new Date() } },
          { departmentId: opts.department, days: Number(opts.days) },
        );
        if (!result.ok) {
          console.error(`error: ${result.error.code}`);
          return EXIT_PROBLEM;
        }
        console.log(formatStatsText(result.value, opts.locale ?? config.raw.locale));
        return EXIT_OK;
      });
    }),
  );

  configureCommand(
    program
      .command('digest')
      .description('preview the weekly digest chart from the database, as it would be posted now (PNG)')
      .requiredOption('--preview', 'render the chart to a file instead of posting (the only mode)')
      .requiredOption('--out <file>', 'PNG file to write, e.g. digest.png')
      .option('--department <id>', 'only this department (the posted digest covers all)')
      .option('--at <iso>', 'the moment of posting: the chart covers the last full calendar week before it, as the weekly digest does (default: now)')
      .option('--config <file>', 'config file (default: $TICKETBOT_CONFIG or ./ticketbot.yaml)')
      .addOption(localeOption()),
  ).action(
    action(async (opts: { preview: boolean; out: string; department?: string; at?: string; config?: string; locale?: Locale }) => {
      if (!opts.out.toLowerCase().endsWith('.png')) throw new UsageError(`--out ${opts.out}: the preview is a PNG, name the file *.png`);
      const at = opts.at !== undefined ? new Date(parseInstant(opts.at, '--at')) : new Date();
      const config = loadConfig(opts.config);
      checkDepartment(config, opts.department);
      const locale = opts.locale ?? config.raw.locale;
      const { digestChartPng, statsSummary } = reportsStats();
      return withStorage(async (storage) => {
        const result = await statsSummary(
          { db: storage.db, config, calendars: calendarsFromConfig(config.raw), time: { now: () => at } },
          { departmentId: opts.department, days: 7, period: { kind: 'last_week' } },
        );
        if (!result.ok) {
          console.error(`error: ${result.error.code}`);
          return EXIT_PROBLEM;
        }
        const png = await digestChartPng(result.value, locale);
        writeFileSync(opts.out, png);
        const created = result.value.byDay.reduce((n, d) => n + d.created, 0);
        const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
        const days = result.value.byDay;
        console.error(`wrote ${opts.out} (${png.length} bytes, ${locale}, ${days.length} days ${days[0]?.day ?? day(result.value.fromMs)} – ${days.at(-1)?.day ?? day(result.value.toMs - 1)}, ${created} ticket(s) created)`);
        return EXIT_OK;
      });
    }),
  );
}

