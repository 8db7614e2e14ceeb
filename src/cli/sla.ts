import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { loadConfigFile } from '../config/load';
import type { Config } from '../config/model';
import { calendarsFromConfig, type BusinessCalendar } from '../domain/calendar';
import { parseDuration, parseTarget, type Target } from '../domain/duration';
import { parseInstant } from '../domain/zone';
import { action, configureCommand, EXIT_OK, UsageError } from './common';

/** `sla due` and `sla between`: ask the business calendars of a config file directly. */
export function registerSlaCommands(program: Command): void {
  const sla = configureCommand(program.command('sla').description('ask the SLA engine: due times and business time of a calendar'));

  configureCommand(
    sla
      .command('due')
      .description('print the instant (ISO-8601 UTC) that lies DURATION of business time after --from')
      .requiredOption('--config <file>', 'config file')
      .requiredOption('--calendar <id>', "calendar id from the config, or 'always'")
      .requiredOption('--from <iso>', 'start instant; without Z or an offset it is local time in the calendar zone')
      .requiredOption('--add <duration>', 'business time to add, e.g. 4h, 1h30m, 2d (a d is 24 business hours), or working days: 3wd')
      .option('--explain', 'also print how the due time was reached', false),
  ).action(
    action((opts: { config: string; calendar: string; from: string; add: string; explain: boolean }) => {
      const calendar = calendarFromConfigFile(opts.config, opts.calendar);
      const from = instantOption('--from', opts.from, calendar);
      const target = targetOption('--add', opts.add);
      if (target.kind === 'working_days') {
        console.log(new Date(calendar.addWorkingDays(from, target.days)).toISOString());
        if (opts.explain) for (const line of calendar.explainWorkingDays(from, target.days)) console.log(`  ${line}`);
        return EXIT_OK;
      }
      console.log(new Date(calendar.add(from, target.ms)).toISOString());
      if (opts.explain) for (const line of calendar.explainAdd(from, target.ms)) console.log(`  ${line}`);
      return EXIT_OK;
    }),
  );

  configureCommand(
    sla
      .command('between')
      .description('print the business time in milliseconds between two instants')
      .requiredOption('--config <file>', 'config file')
      .requiredOption('--calendar <id>', "calendar id from the config, or 'always'")
      .requiredOption('--from <iso>', 'start instant; without Z or an offset it is local time in the calendar zone')
      .requiredOption('--to <iso>', 'end instant; without Z or an offset it is local time in the calendar zone'),
  ).action(
    action((opts: { config: string; calendar: string; from: string; to: string }) => {
      const calendar = calendarFromConfigFile(opts.config, opts.calendar);
      const from = instantOption('--from', opts.from, calendar);
      const to = instantOption('--to', opts.to, calendar);
      console.log(String(calendar.between(from, to)));
      return EXIT_OK;
    }),
  );
}

/**
 * Loads a config for a CLI command: a missing file is bad usage (exit 2); a config with problems
 * throws ConfigError, which the action helper prints with every problem and exits 1 for.
 */
export function loadConfigForCli(file: string): Config {
  if (!existsSync(file)) throw new UsageError(`config file not found: ${file}`);
  return loadConfigFile(file);
}

function calendarFromConfigFile(file: string, calendarId: string): BusinessCalendar {
  const calendars = calendarsFromConfig(loadConfigForCli(file).raw);
  const calendar = calendars.get(calendarId);
  if (!calendar) throw new UsageError(`unknown calendar "${calendarId}" (known: ${[...calendars.keys()].join(', ')})`);
  return calendar;
}

export function instantOption(flag: string, text: string, calendar: BusinessCalendar): number {
  const ms = parseInstant(text, calendar.timezone);
  if (ms === undefined) throw new UsageError(`${flag}: not an ISO-8601 date-time: "${text}" (e.g. 2026-10-08T09:00:00+08:00)`);
  return ms;
}

function targetOption(flag: string, text: string): Target {
  const target = parseTarget(text);
  if (target === undefined) throw new UsageError(`${flag}: not a duration: "${text}" (use e.g. 30m, 4h, 1h30m, 2d, or 3wd for working days)`);
  return target;
}

export function durationOption(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`${flag}: not a duration: "${text}" (use e.g. 30m, 4h, 1h30m, 2d)`);
  return ms;
}
