import { sql } from 'kysely';
import type { Logger } from 'pino';
import { readEnv, type Env } from './config/env';
import { ConfigError, loadConfigFile } from './config/load';
import { locateConfig } from './config/locate';
import type { Config } from './config/model';
import { calendarsFromConfig } from './domain/calendar';
import type { AppContext } from './app/context';
import { systemTime } from './app/context';
import { newId } from './app/ids';
import { createLogger } from './logger';
import { migrate, openStorage, type Storage } from './storage/database';
import { createWebServer } from './web/server';
import { feishuStatus, slackStatus, type PlatformStatus } from './platforms';

export interface RunningBot {
  ctx: AppContext;
  port: number;
  stop(): Promise<void>;
}

/** Composition root: config → storage → core → HTTP → platforms → scheduler. */
export async function startBot(env: Env, logger: Logger): Promise<RunningBot> {
  const located = locateConfig(env);
  if (located.usedExample) logger.warn({ config: located.path }, `no ./ticketbot.yaml and TICKETBOT_CONFIG not set: using the shipped example config ${located.path}`);
  const config: Config = loadConfigFile(located.path);
  logger.info({ config: located.path, departments: config.departments.size, categories: config.leaves.size }, 'config loaded');

  const storage: Storage = await openStorage({ databaseUrl: env.DATABASE_URL, sqliteFile: env.TICKETBOT_DB_FILE });
  const applied = await migrate(storage.db);
  logger.info({ database: storage.description, migrationsApplied: applied }, 'database ready');

  const ctx: AppContext = {
    db: storage.db,
    dialect: storage.dialect,
    config,
    calendars: calendarsFromConfig(config.raw),
    time: systemTime,
    logger,
    newId: () => newId(),
  };

  const platforms: Record<string, PlatformStatus> = { slack: slackStatus(env), feishu: feishuStatus(env) };
  for (const [name, status] of Object.entries(platforms)) {
    const label = name === 'slack' ? 'Slack' : 'Feishu';
    if (status.on) logger.info({ platform: name, mode: status.mode }, `${label}: on (${status.mode})`);
    else logger.info({ platform: name }, `${label}: off — ${status.reason}`);
  }

  const web = createWebServer({
    logger,
    health: {
      database: async () => {
        await sql`select 1`.execute(storage.db);
        return { ok: true, dialect: storage.dialect };
      },
      platforms: () => platforms,
      scheduler: () => ({ state: 'off' }),
    },
  });
  const { port, server } = await web.listen(env.PORT);

  let stopping = false;
  return {
    ctx,
    port,
    stop: async () => {
      if (stopping) return;
      stopping = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await storage.close();
      logger.info('stopped');
    },
  };
}

async function main(): Promise<void> {
  let env: Env;
  try {
    env = readEnv();
  } catch (err) {
    console.error(`ticketbot: ${(err as Error).message}`);
    process.exit(1);
  }
  const logger = createLogger(env.LOG_LEVEL);
  try {
    const bot = await startBot(env, logger);
    const shutdown = (signal: string) => {
      logger.info({ signal }, 'shutting down');
      bot.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, 'error during shutdown');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`ticketbot: the config is not valid — ${err.file}`);
      for (const p of err.problems) console.error(`  ${p.path}: ${p.message}`);
      console.error('Fix these keys (check with: npm run ticketbot -- config check FILE) and start again.');
    } else {
      console.error(`ticketbot: could not start — ${(err as Error).message}`);
      logger.debug({ err }, 'start-up failure');
    }
    process.exit(1);
  }
}

if (require.main === module) void main();
