import { timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import express, { type Express, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { jsonErrorHandler } from '../http-errors';

/** What /healthz reports; each part fills its own piece. */
export interface HealthSources {
  database(): Promise<{ ok: boolean; dialect: string; error?: string; tables?: Record<string, number> }>;
  platforms(): Record<string, { on: boolean; reason?: string; mode?: string }>;
  scheduler(): Promise<Record<string, unknown>> | Record<string, unknown>;
}

export interface WebServer {
  app: Express;
  listen(port: number, host?: string): Promise<{ port: number; server: Server }>;
  /** Adds the last handlers (JSON 404 and the error handler): call after every route is mounted. */
  finish(): void;
}

export interface WebServerOptions {
  logger: Logger;
  health: HealthSources;
  metrics?: () => Promise<string>;
  /** When set, /metrics and the details of /healthz need `Authorization: Bearer <token>`. */
  metricsToken?: string | undefined;
  /** Express's environment; anything but 'development' hides error details. Default 'production'. */
  environment?: string | undefined;
}

function bearerMatches(req: Request, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m) return false;
  const a = Buffer.from(m[1]!.trim());
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The bot's one HTTP server: health, metrics, platform webhooks (/slack/events, /feishu/events)
 * and the dashboard all mount on this express app.
 */
export function createWebServer(opts: WebServerOptions): WebServer {
  const app = express();
  app.disable('x-powered-by');
  app.set('env', opts.environment ?? 'production');
  const token = opts.metricsToken;
  app.get('/healthz', async (req: Request, res: Response) => {
    const database = await opts.health.database().catch((err: unknown) => ({ ok: false, dialect: 'unknown', error: String(err) }));
    const status = database.ok ? 200 : 503;
    // With a token configured, strangers learn only whether the bot is up.
    if (token && !bearerMatches(req, token)) {
      res.status(status).json({ ok: database.ok });
      return;
    }
    const scheduler = await Promise.resolve()
      .then(() => opts.health.scheduler()).catch((err: unknown) => ({ state: 'unknown', error: String(err) }));
    const body = { ok: database.ok, database, platforms: opts.health.platforms(), scheduler };
    res.status(status).json(body);
  });
  app.get('/metrics', async (req: Request, res: Response) => {
    if (token && !bearerMatches(req, token)) {
      res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: 'unauthorized' });
      return;
    }
    if (!opts.metrics) {
      res.status(404).type('text/plain').send('metrics are not enabled\n');
      return;
    }
    res.type('text/plain; version=0.0.4').send(await opts.metrics());
  });
  let finished = false;
  return {
    app,
    finish: () => {
      if (finished) return;
      finished = true;
      app.use((_req: Request, res: Response) => {
        res.status(404).json({ error: 'not_found' });
      });
      app.use(jsonErrorHandler(opts.logger));
    },
    listen: (port, host = '0.0.0.0') =>
      new Promise((resolve, reject) => {
        const server = app.listen(port, host, (err?: Error) => {
          if (err) return reject(err);
          const address = server.address();
          const actual = typeof address === 'object' && address ? address.port : port;
          opts.logger.info({ port: actual, host }, 'HTTP server listening');
          resolve({ port: actual, server });
        });
        server.on('error', reject);
      }),
  };
}
