import type { Server } from 'node:http';
import express, { type Express, type Request, type Response } from 'express';
import type { Logger } from 'pino';

/** What /healthz reports; each part fills its own piece. */
export interface HealthSources {
  database(): Promise<{ ok: boolean; dialect: string; error?: string; tables?: Record<string, number> }>;
  platforms(): Record<string, { on: boolean; reason?: string; mode?: string }>;
  scheduler(): Promise<Record<string, unknown>> | Record<string, unknown>;
}

export interface WebServer {
  app: Express;
  listen(port: number, host?: string): Promise<{ port: number; server: Server }>;
}

/**
 * The bot's one HTTP server: health, metrics, platform webhooks (/slack/events, /feishu/events)
 * and the dashboard all mount on this express app.
 */
export function createWebServer(opts: { logger: Logger; health: HealthSources; metrics?: () => Promise<string> }): WebServer {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', async (_req: Request, res: Response) => {
    const database = await opts.health.database().catch((err: unknown) => ({ ok: false, dialect: 'unknown', error: String(err) }));
    const scheduler = await Promise.resolve()
      .then(() => opts.health.scheduler()).catch((err: unknown) => ({ state: 'unknown', error: String(err) }));
    const body = { ok: database.ok, database, platforms: opts.health.platforms(), scheduler };
    res.status(database.ok ? 200 : 503).json(body);
  });
  app.get('/metrics', async (_req: Request, res: Response) => {
    if (!opts.metrics) {
      res.status(404).type('text/plain').send('metrics are not enabled\n');
      return;
    }
    res.type('text/plain; version=0.0.4').send(await opts.metrics());
  });
  return {
    app,
    listen: (port, host = '0.0.0.0') =>
      new Promise((resolve, reject) => {
        const server = app.listen(port, host, (err?: Error) => {
          if (err) return reject(err);
          const address = server.address();
          const actual = typeof address === 'object' && address ? address.port : port;
          opts.logger.info({ port: actual }, 'HTTP server listening');
          resolve({ port: actual, server });
        });
        server.on('error', reject);
      }),
  };
}
