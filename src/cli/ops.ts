import { Command } from 'commander';
import { readEnv } from '../config/env';
import { loadConfigFile } from '../config/load';
import { locateConfig } from '../config/locate';
import { migrate, openStorage } from '../storage/database';
import { action, configureCommand, EXIT_OK } from './common';

export function registerOpsCommands(program: Command): void {
  configureCommand(
    program
      .command('migrate')
      .description('apply pending database migrations (DATABASE_URL for PostgreSQL, else TICKETBOT_DB_FILE or ./data/ticketbot.db)'),
  ).action(
    action(async () => {
      const env = readEnv();
      const storage = await openStorage({ databaseUrl: env.DATABASE_URL, sqliteFile: env.TICKETBOT_DB_FILE });
      try {
        // Migration 011 rewrites return reasons stored by name to ids: it needs the config's reasons.
        let returnReasons;
        try {
          returnReasons = loadConfigFile(locateConfig().path).raw.return_reasons;
        } catch {
          returnReasons = undefined;
        }
        const applied = await migrate(storage.db, { returnReasons });
        console.log(`${storage.description}: ${applied.length ? `applied ${applied.join(', ')}` : 'up to date'}`);
        return EXIT_OK;
      } finally {
        await storage.close();
      }
    }),
  );
}
