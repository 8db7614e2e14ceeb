import { readFileSync, existsSync } from 'node:fs';
import { Command } from 'commander';
import { parseConfigText, configJsonSchema } from '../config/load';
import { action, configureCommand, EXIT_OK, EXIT_PROBLEM, EXIT_USAGE } from './common';
import { defaultConfigPath } from '../config/locate';
import { officialDataWarnings } from '../config/holidays';

export function registerConfigCommands(program: Command): void {
  const config = configureCommand(program.command('config').description('check the config file or print its JSON Schema'));
  configureCommand(
    config
      .command('check')
      .description('check a config file and print every problem with the path of its key')
      .argument('[file]', 'config file (default: $TICKETBOT_CONFIG or ./ticketbot.yaml)'),
  ).action(
    action((file: string | undefined) => {
      const path = file ?? defaultConfigPath();
      if (!existsSync(path)) {
        console.error(`error: config file not found: ${path}`);
        return EXIT_USAGE;
      }
      const result = parseConfigText(readFileSync(path, 'utf8'));
      if (!result.ok) {
        for (const p of result.problems) console.log(`${p.path}: ${p.message}`);
        console.error(`${path}: ${result.problems.length} problem(s)`);
        return EXIT_PROBLEM;
      }
      const c = result.config;
      // Warnings do not fail the check: the config works, but some dates will be counted as plain weekdays.
      const warnings = officialDataWarnings(c.raw.calendars);
      for (const w of warnings) console.log(`warning: ${w}`);
      console.log(`${path}: ok (${c.departments.size} departments, ${c.leaves.size} leaf categories, ${c.raw.sla.length} SLA policies)${warnings.length ? `, ${warnings.length} warning(s)` : ''}`);
      return EXIT_OK;
    }),
  );
  configureCommand(config.command('schema').description('print the JSON Schema of the config file')).action(
    action(() => {
      console.log(JSON.stringify(configJsonSchema(), null, 2));
    }),
  );
}
