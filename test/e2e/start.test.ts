import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeSlack } from '../fakes/slack-server';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = join(ROOT, 'src', 'main.ts');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/** The environment of a fresh machine: no chat credentials, no DATABASE_URL. */
function bareEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'test', ...extra };
  return env;
}

describe('npm start', () => {
  it('starts with no credentials, says which platforms are off and answers /healthz', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ticketbot-start-'));
    const port = await freePort();
    const child = spawn(TSX, [MAIN], { cwd: dir, env: bareEnv({ PORT: String(port), TICKETBOT_DB_FILE: join(dir, 'data', 'bot.db') }) });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    try {
      const started = Date.now();
      let health: { ok: boolean; database: { ok: boolean; dialect: string }; platforms: Record<string, { on: boolean; reason?: string }>; scheduler: { state: string } } | undefined;
      // The HTTP server answers before the platforms and the scheduler are up: wait for the scheduler.
      while (Date.now() - started < 20_000 && health?.scheduler.state !== 'running') {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`);
          health = (await res.json()) as typeof health;
        } catch {
          // not listening yet
        }
        if (health?.scheduler.state !== 'running') await new Promise((r) => setTimeout(r, 200));
      }
      expect(health).toBeDefined();
      expect(health!.ok).toBe(true);
      expect(health!.database).toMatchObject({ ok: true, dialect: 'sqlite', tables: { tickets: 0, inbox: 0 } });
      expect(health!.platforms.slack).toEqual({ on: false, reason: 'SLACK_BOT_TOKEN is not set' });
      expect(health!.platforms.feishu).toEqual({ on: false, reason: 'FEISHU_APP_ID is not set' });
      expect(output).toContain('Slack: off — SLACK_BOT_TOKEN is not set');
      expect(output).toContain('Feishu: off — FEISHU_APP_ID is not set');
      expect(output).toContain('using the shipped example config');
      expect(readFileSync(join(dir, 'data', 'bot.db')).length).toBeGreaterThan(0);
      // The engine runs without any platform: scheduler on, metrics served.
      expect(health!.scheduler).toMatchObject({ state: 'running', failedDeliveries: 0 });
      const metrics = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(metrics.headers.get('content-type')).toContain('text/plain');
      const text = await metrics.text();
      expect(text).toMatch(/^ticketbot_scheduler_timers_processed_total/m);
      expect(text).toMatch(/^ticketbot_timers_due 0$/m);
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGTERM');
    }
  });

  it('exits 1 naming the key when the config is broken, without a stack trace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ticketbot-badcfg-'));
    const example = readFileSync(join(ROOT, 'config', 'example.yaml'), 'utf8');
    writeFileSync(join(dir, 'ticketbot.yaml'), example.replace('calendar: cn-warehouse', 'calendar: cn-ofice'));
    const child = spawn(TSX, [MAIN], { cwd: dir, env: bareEnv({ PORT: '0', TICKETBOT_DB_FILE: join(dir, 'bot.db') }) });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(1);
    expect(stderr).toContain('departments[4].calendar: unknown calendar "cn-ofice"');
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 1 naming SLACK_BOT_TOKEN when Slack rejects the token', async () => {
    const fake = new FakeSlack();
    await fake.start();
    try {
      const dir = mkdtempSync(join(tmpdir(), 'ticketbot-badtoken-'));
      const env = bareEnv({ PORT: '0', TICKETBOT_DB_FILE: join(dir, 'bot.db'), SLACK_BOT_TOKEN: 'xoxb-wrong', SLACK_SIGNING_SECRET: 's', SLACK_API_URL: fake.apiUrl });
      const child = spawn(TSX, [MAIN], { cwd: dir, env });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((r) => child.once('exit', r));
      expect(code).toBe(1);
      expect(stderr).toContain('SLACK_BOT_TOKEN was rejected by auth.test (invalid_auth)');
      expect(stderr).not.toMatch(/\n\s+at /);
    } finally {
      await fake.stop();
    }
  }, 30_000);
});
