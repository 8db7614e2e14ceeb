import { Command } from 'commander';
import { configureCommand } from './cli/common';
import { registerConfigCommands } from './cli/config';
import { registerOpsCommands } from './cli/ops';
import { registerSlaCommands } from './cli/sla';
import { registerSimulateCommand } from './cli/simulate';
import { registerReportCommands } from './cli/reports';
import { registerFeishuCommands } from './cli/feishu';
import { registerShowCommand } from './cli/show';

/** `npm run ticketbot -- <command>`: every command has --help; exit 0 ok, 1 problem found, 2 bad usage. */
export function buildProgram(): Command {
  const program = configureCommand(new Command('ticketbot').description('ticketbot: a ticket desk in Slack and Feishu').version('0.1.0'));
  registerConfigCommands(program);
  registerOpsCommands(program);
  registerSlaCommands(program);
  registerSimulateCommand(program);
  registerReportCommands(program);
  registerFeishuCommands(program);
  registerShowCommand(program);
  return program;
}

if (require.main === module) {
  buildProgram().parseAsync(process.argv).catch((err: unknown) => {
    console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
