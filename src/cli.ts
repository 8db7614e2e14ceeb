import { Command } from 'commander';
import { configureCommand } from './cli/common';

type Register = (program: Command) => void;

/**
 * Each top-level command's module, loaded only when that command runs: `ticketbot stats` loads the
 * report queries and the database driver, not Bolt, the Lark SDK or ECharts. `--help` and an
 * unknown command load them all so the help lists every command. (Lazy `require`: this CommonJS
 * build has no extension-less dynamic import().)
 */
const MODULES: Record<string, () => Register> = {
  config: () => (require('./cli/config') as typeof import('./cli/config')).registerConfigCommands,
  ops: () => (require('./cli/ops') as typeof import('./cli/ops')).registerOpsCommands,
  sla: () => (require('./cli/sla') as typeof import('./cli/sla')).registerSlaCommands,
  simulate: () => (require('./cli/simulate') as typeof import('./cli/simulate')).registerSimulateCommand,
  reports: () => (require('./cli/reports') as typeof import('./cli/reports')).registerReportCommands,
  feishu: () => (require('./cli/feishu') as typeof import('./cli/feishu')).registerFeishuCommands,
  import: () => (require('./cli/import') as typeof import('./cli/import')).registerImportCommand,
  show: () => (require('./cli/show') as typeof import('./cli/show')).registerShowCommand,
  kb: () => (require('./cli/kb') as typeof import('./cli/kb')).registerKbCommands,
  integrations: () => (require('./cli/integrations') as typeof import('./cli/integrations')).registerIntegrationsCommands,
};

/** Top-level command name → the module that registers it. */
const COMMAND_MODULES: Record<string, keyof typeof MODULES> = {
  config: 'config',
  migrate: 'ops',
  sla: 'sla',
  simulate: 'simulate',
  docs: 'reports',
  export: 'reports',
  stats: 'reports',
  digest: 'reports',
  feishu: 'feishu',
  import: 'import',
  show: 'show',
  kb: 'kb',
  integrations: 'integrations',
};

/**
 * `npm run ticketbot -- <command>`: every command has --help; exit 0 ok, 1 problem found, 2 bad usage.
 * With `command`, only the module that defines it is loaded.
 */
export function buildProgram(command?: string): Command {
  const program = configureCommand(new Command('ticketbot').description('ticketbot: a ticket desk in Slack and Feishu').version('0.1.0'));
  const only = command !== undefined ? COMMAND_MODULES[command] : undefined;
  for (const [name, load] of Object.entries(MODULES)) if (only === undefined || only === name) load()(program);
  return program;
}

if (require.main === module) {
  const command = process.argv.slice(2).find((a) => !a.startsWith('-'));
  buildProgram(command).parseAsync(process.argv).catch((err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
