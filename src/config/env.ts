import { z } from 'zod';

/** The only place that reads process.env. Every variable is listed in the README. */
const envSchema = z.object({
  TICKETBOT_CONFIG: z.string().optional(),
  /** Production behaviour (no error details in HTTP answers) unless set otherwise. */
  NODE_ENV: z.string().default('production'),
  DATABASE_URL: z.string().optional(),
  TICKETBOT_DB_FILE: z.string().default('./data/ticketbot.db'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Address the HTTP server binds (0.0.0.0 by default; 127.0.0.1 behind a local proxy). */
  HOST: z.string().min(1).default('0.0.0.0'),
  /** When set, /metrics and the details of /healthz need `Authorization: Bearer <token>`. */
  TICKETBOT_METRICS_TOKEN: z.string().min(1).optional(),
  /** Durable intake: how long a claim on a received payload lasts before another process may take it. */
  TICKETBOT_INTAKE_LEASE: z.string().default('60s'),
  /** SQLite: where the intake stores requests before the ack — `beside` the main file (its own write lock), `main`, or a path. */
  TICKETBOT_INTAKE_JOURNAL: z.string().default('beside'),
  /** SIGTERM: how long the work already received may take before it is handed back. */
  TICKETBOT_DRAIN_TIMEOUT: z.string().default('20s'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TICKETBOT_TICK: z.string().default('5s'),
  /** Report worker threads (issue 16): stats, dashboard figures, digest and CSV run there; 0 runs them on the main thread. */
  TICKETBOT_REPORT_WORKERS: z.coerce.number().int().min(0).max(8).default(1),
  /** A report that runs longer is cancelled (its worker restarted) and the user is asked for a shorter period. */
  TICKETBOT_REPORT_TIMEOUT: z.string().default('60s'),
  TICKETBOT_PUBLIC_URL: z.string().optional(),
  TICKETBOT_SECRET: z.string().optional(),
  SLACK_BOT_TOKEN: z.string().optional(),
  SLACK_SIGNING_SECRET: z.string().optional(),
  SLACK_APP_TOKEN: z.string().optional(),
  SLACK_MODE: z.enum(['socket', 'http']).optional(),
  SLACK_API_URL: z.string().optional(),
  FEISHU_APP_ID: z.string().optional(),
  FEISHU_APP_SECRET: z.string().optional(),
  FEISHU_MODE: z.enum(['ws', 'http']).optional(),
  FEISHU_DOMAIN: z.string().optional(),
  FEISHU_ENCRYPT_KEY: z.string().optional(),
  FEISHU_VERIFICATION_TOKEN: z.string().optional(),
});

export type Env = z.infer<typeof envSchema>;

export function readEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new Error(`bad environment: ${lines.join('; ')}`);
  }
  return parsed.data;
}
