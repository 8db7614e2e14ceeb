import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFeishuRequest } from '../../src/feishu/verify';
import { openStorage, type Storage } from '../../src/storage/database';
import { journalFileBeside } from '../../src/storage/intakeJournal';
import { startFakeFeishu, type FakeFeishu } from '../fakes/feishu-server';
import { FakeSlack } from '../fakes/slack-server';
import { openMigratedPostgres } from '../support/storage';

/**
 * "Nothing acknowledged is ever lost", with real processes: `npm start`'s entry point in HTTP mode
 * for Slack and Feishu, signed requests at 200/s (half `/ticket <text>` commands, half Feishu
 * new-ticket form submissions), and the process killed with SIGKILL or stopped with SIGTERM in the
 * middle. A second process on the same database takes over what the first left. Every request that
 * was answered 200 must be exactly one ticket; no ticket may exist twice.
 */

const ROOT = join(__dirname, '..', '..');
const LOADER = join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const MAIN = join(ROOT, 'src', 'main.ts');
const SIGNING_SECRET = 'intake-signing-secret';
const FEISHU = { encryptKey: 'intake-encrypt-key', verificationToken: 'intake-verification-token' };
// Faster than one process creates tickets, so acked work is still queued when it is stopped (with the
// intake journal in its own file the acks no longer wait for that work, and at 200/s it kept up).
const RATE = 500;
const MAX_REQUESTS = 1500;
const STOP_AFTER_ANSWERS = 100;

const CONFIG = `
locale: en
admins: [slack:UADMIN]
calendars:
  office: { timezone: Asia/Shanghai, week: { mon-fri: ["09:00-18:00"] } }
departments:
  - id: it
    name: { en: IT, zh-CN: 信息技术部 }
    key_prefix: IT
    slack: { channel: C0IT }
    members: [slack:UIT1]
    supervisors: [slack:UBOSS]
    calendar: always
    routing: { strategy: claim }
  - id: helpdesk
    name: { en: Helpdesk, zh-CN: 服务台 }
    key_prefix: HD
    feishu: { chat_id: oc_help }
    members: [feishu:ou_a1]
    supervisors: [feishu:ou_boss]
    calendar: always
    routing: { strategy: claim }
categories:
  - id: laptop
    name: { en: Laptop, zh-CN: 电脑 }
    department: it
    children:
      - id: hardware
        name: { en: Hardware, zh-CN: 硬件 }
        children:
          - { id: broken-screen, name: { en: Broken screen, zh-CN: 屏幕损坏 } }
  - id: fault
    name: { en: Fault, zh-CN: 故障类 }
    department: helpdesk
    children:
      - id: login
        name: { en: Login, zh-CN: 登录问题 }
        children:
          - { id: wrong-password, name: { en: Wrong password, zh-CN: 密码错误 } }
sla:
  - { id: all, first_response: 1h, resolution: 1d, calendar: always }
intake:
  default_category: broken-screen
  default_priority: normal
`;

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

function slackHeaders(body: string): Record<string, string> {
  const ts = Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(ts),
    'x-slack-signature': 'v0=' + createHmac('sha256', SIGNING_SECRET).update(`v0:${ts}:${body}`).digest('hex'),
  };
}

interface Sent {
  title: string;
  status: number | 'error';
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const pgUrl = process.env.TEST_DATABASE_URL;
const databases = pgUrl ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);

describe.each(databases)('durable intake on %s: real processes under 200 requests/s', (database) => {
  let slack: FakeSlack;
  let feishu: FakeFeishu;
  let storage: Storage;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const children: ChildProcess[] = [];
  let output = '';
  const logs = new Map<string, { text: string }>();

  beforeEach(async () => {
    slack = new FakeSlack();
    await slack.start();
    for (const id of ['UREQ', 'UIT1', 'UBOSS', 'UADMIN']) slack.addUser({ id, name: id, locale: 'en-US', tz: 'Asia/Shanghai' });
    slack.addChannel({ id: 'C0IT', name: 'it-desk', members: ['UBOT', 'UIT1'] });
    slack.addChannel({ id: 'C0GEN', name: 'general', members: ['UBOT', 'UREQ'] });
    feishu = await startFakeFeishu();
    for (const openId of ['ou_req', 'ou_a1', 'ou_boss']) feishu.addUser({ open_id: openId, name: openId, email: `${openId}@example.com` });
    feishu.chatMembers.set('oc_help', ['ou_a1']);
    dir = mkdtempSync(join(tmpdir(), 'ticketbot-intake-'));
    writeFileSync(join(dir, 'ticketbot.yaml'), CONFIG);
    let databaseEnv: Record<string, string>;
    if (database === 'postgres') {
      const schema = `k_${randomBytes(5).toString('hex')}`;
      storage = await openMigratedPostgres(pgUrl!, schema);
      databaseEnv = { DATABASE_URL: `${pgUrl}${pgUrl!.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}` };
    } else {
      databaseEnv = { TICKETBOT_DB_FILE: join(dir, 'bot.db') };
    }
    env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...databaseEnv,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
      FEISHU_APP_ID: feishu.appId,
      FEISHU_APP_SECRET: feishu.appSecret,
      FEISHU_MODE: 'http',
      FEISHU_DOMAIN: feishu.url,
      FEISHU_ENCRYPT_KEY: FEISHU.encryptKey,
      FEISHU_VERIFICATION_TOKEN: FEISHU.verificationToken,
      TICKETBOT_TICK: '500ms',
      TICKETBOT_SECRET: 'intake-dashboard-secret',
      // A dead process's claims are taken over after this (production: 60 s).
      TICKETBOT_INTAKE_LEASE: '3s',
      // On a busy machine the backlog after 200 requests/s takes a while; the drain must see it through.
      TICKETBOT_DRAIN_TIMEOUT: '120s',
      LOG_LEVEL: 'info',
    };
    output = '';
    logs.clear();
  });

  afterEach(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    children.length = 0;
    await slack.stop();
    await feishu.stop();
    await storage?.close();
  });

  /** The bot as `npm start` runs it, but as one node process (tsx's loader), so SIGKILL reaches it. */
  async function startBot(name: string): Promise<{ child: ChildProcess; port: number }> {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', LOADER, MAIN], { cwd: dir, env: { ...env, PORT: String(port) } });
    const own = { text: '' };
    const add = (d: Buffer) => {
      own.text += d.toString();
      output += `${name}: ${d.toString()}`;
    };
    child.stdout!.on('data', add);
    child.stderr!.on('data', add);
    logs.set(name, own);
    children.push(child);
    await waitFor(`${name} to start`, async () => own.text.includes('scheduler: on'), 90_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${output.slice(-3000)}`);
    });
    return { child, port };
  }

  async function openDb(): Promise<Storage> {
    if (database === 'postgres') return storage;
    return openStorage({ sqliteFile: join(dir, 'bot.db') });
  }

  /** Where the bot stores requests before the ack: on SQLite its own file beside the main one (storage/intakeJournal.ts). */
  async function openIntakeDb(): Promise<Storage> {
    if (database === 'postgres') return storage;
    return openStorage({ sqliteFile: journalFileBeside(join(dir, 'bot.db')) });
  }

  /** Sends REQUESTS signed requests at RATE/s, alternating Slack commands and Feishu form submissions. */
  /**
   * Sends signed requests at `rate`/s, alternating Slack commands and Feishu form submissions,
   * until `requests` are sent or `enough()` says so; `onAnswer` sees each answer as it comes.
   */
  function load(port: number, o: { requests: number; rate: number; enough?: () => boolean; onAnswer?: (s: Sent) => void }): Promise<Sent[]> {
    const { requests, rate } = o;
    const base = `http://127.0.0.1:${port}`;
    const results: Promise<Sent>[] = [];
    const answer = (sent: Sent): Sent => (o.onAnswer?.(sent), sent);
    const started = Date.now();
    return (async () => {
      for (let i = 0; i < requests; i++) {
        const wait = started + (i * 1000) / rate - Date.now();
        // Always let the event loop turn: a loop behind schedule would otherwise queue every request unsent.
        await new Promise((r) => (wait > 1 ? setTimeout(r, wait) : setImmediate(r)));
        if (o.enough?.()) break;
        const run = randomBytes(3).toString('hex');
        if (i % 2 === 0) {
          const title = `slack request ${i} ${run}`;
          const body = new URLSearchParams({
            team_id: slack.teamId, channel_id: 'C0GEN', user_id: 'UREQ', command: '/ticket', text: title, trigger_id: `trig.${i}.${run}`, response_url: slack.responseUrl(`r${i}`),
          }).toString();
          results.push(
            fetch(`${base}/slack/events`, { method: 'POST', headers: slackHeaders(body), body, signal: AbortSignal.timeout(10_000) }).then(
              async (res) => (await res.arrayBuffer(), answer({ title, status: res.status })),
              () => ({ title, status: 'error' as const }),
            ),
          );
        } else {
          const title = `feishu request ${i} ${run}`;
          const envelope = {
            schema: '2.0',
            header: { event_id: `ev_${i}_${run}`, event_type: 'card.action.trigger', create_time: String(Date.now()), token: FEISHU.verificationToken, app_id: feishu.appId, tenant_key: 'tenant_fake' },
            event: {
              operator: { open_id: 'ou_req', tenant_key: 'tenant_fake' },
              token: `c-token-${i}`,
              action: { value: { a: 'submit', f: 'new', fid: `form_${i}_${run}`, cat: 'wrong-password' }, tag: 'button', name: 'submit', form_value: { title, description: 'from the kill test' } },
              host: 'im_message',
              context: { open_message_id: `om_form_${i}`, open_chat_id: feishu.p2pChatOf('ou_req') },
            },
          };
          const req = buildFeishuRequest(FEISHU, envelope, { timestampSec: Math.floor(Date.now() / 1000) });
          results.push(
            fetch(`${base}/feishu/events`, { method: 'POST', headers: req.headers, body: req.body, signal: AbortSignal.timeout(10_000) }).then(
              async (res) => (await res.arrayBuffer(), answer({ title, status: res.status })),
              () => ({ title, status: 'error' as const }),
            ),
          );
        }
      }
      return Promise.all(results);
    })();
  }

  it.each(['SIGKILL', 'SIGTERM'] as const)('%s: every request answered 200 becomes exactly one ticket (Slack and Feishu)', async (signal) => {
    const a = await startBot('a');
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => a.child.once('exit', (code, sig) => resolve({ code, signal: sig })));
    // Warm up (JIT, caches, connections) at a gentle pace; these count like the others.
    const warm = await load(a.port, { requests: 20, rate: 20 });
    // Stopped once enough requests were answered (on a busy machine that takes longer than on an idle one),
    // with requests still arriving and acked work still queued; the load goes on a little after.
    let okCount = 0;
    let stoppedAt: number | undefined;
    const sent = await load(a.port, {
      requests: MAX_REQUESTS,
      rate: RATE,
      enough: () => stoppedAt !== undefined && Date.now() - stoppedAt > 300,
      onAnswer: (s) => {
        if (s.status === 200) okCount++;
        if (stoppedAt === undefined && okCount >= STOP_AFTER_ANSWERS) {
          stoppedAt = Date.now();
          a.child.kill(signal);
        }
      },
    });
    const exit = await exited;
    if (signal === 'SIGKILL') expect(exit.signal).toBe('SIGKILL');
    else {
      expect(exit.code).toBe(0);
      expect(output).not.toMatch(/driver has already been destroyed|could not record the outcome/);
    }

    const answered = [...warm, ...sent].filter((s) => s.status === 200).map((s) => s.title);
    // The test means something only if the process was stopped with acked work in flight.
    expect(stoppedAt).toBeDefined();
    expect(answered.length).toBeGreaterThanOrEqual(STOP_AFTER_ANSWERS);
    expect(sent.some((s) => s.status !== 200)).toBe(true);

    // A second process on the same database takes over whatever the first left pending.
    const b = await startBot('b');
    const db = await openDb();
    const intakeDb = await openIntakeDb();
    try {
      const pending = await waitFor(
        'every stored request to be worked',
        async () => {
          const row = await intakeDb.db.selectFrom('inbound_events').select((eb) => eb.fn.countAll<number>().as('n')).where('status', '=', 'pending').executeTakeFirstOrThrow();
          return Number(row.n) === 0 ? 'none' : undefined;
        },
        150_000,
      );
      expect(pending).toBe('none');
      const metrics = await (await fetch(`http://127.0.0.1:${b.port}/metrics`)).text();
      expect(metrics).toMatch(/^ticketbot_inbound_pending 0$/m);
      const tickets = await db.db.selectFrom('tickets').select('title').execute();
      const count = new Map<string, number>();
      for (const t of tickets) count.set(t.title, (count.get(t.title) ?? 0) + 1);
      const lost = answered.filter((title) => !count.has(title));
      expect(lost).toEqual([]);
      expect([...count.entries()].filter(([, n]) => n > 1)).toEqual([]);
      // Both platforms took part.
      expect(answered.some((t) => t.startsWith('slack'))).toBe(true);
      expect(answered.some((t) => t.startsWith('feishu'))).toBe(true);
      // SIGKILL left acked work behind, and the second process did it.
      if (signal === 'SIGKILL') expect(logs.get('b')!.text).toContain('working a stored payload again');
      const dead = await intakeDb.db.selectFrom('inbound_events').select(['kind', 'last_error']).where('status', '=', 'dead').execute();
      expect(dead).toEqual([]);
    } finally {
      if (database === 'sqlite') await Promise.all([db.close(), intakeDb.close()]);
    }
  }, 360_000);
});
