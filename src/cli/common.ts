import { Command, CommanderError } from 'commander';

/** Exit codes every CLI command uses. */
export const EXIT_OK = 0;
export const EXIT_PROBLEM = 1;
export const EXIT_USAGE = 2;

/** A usage error the CLI reports in one line and exits 2 for. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Makes commander exit 2 on bad usage (it uses 1 by default) and print errors as one line. */
export function configureCommand(cmd: Command): Command {
  return cmd
    .exitOverride((err: CommanderError) => {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') process.exit(EXIT_OK);
      process.exit(EXIT_USAGE);
    })
    .showHelpAfterError('(add --help for usage)');
}

/** Runs an action, turning UsageError into exit 2 and other errors into exit 1 with one clear line. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      process.exitCode = code ?? EXIT_OK;
    } catch (err) {
      if (err instanceof UsageError) {
        console.error(`error: ${err.message}`);
        process.exitCode = EXIT_USAGE;
      } else {
        console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
        process.exitCode = EXIT_PROBLEM;
      }
    }
  };
}
