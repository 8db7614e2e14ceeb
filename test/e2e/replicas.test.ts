import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load';
import { createTicket } from '../../src/app';
import type { Storage } from '../../src/storage/database';
import { FakeSlack } from '../fakes/slack-server';
import { as, ManualTime, seedUsers, testContext } from '../support/app';
import { openMigratedPostgres } from '../support/storage';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = join(ROOT, 'src', 'main.ts');
const SIGNING_SECRET = 'replicas-signing-secret';

/** Second-long limits so the whole ladder runs while the test watches. */
const CONFIG = `
locale: en
admins: [slack:UADMIN]
calendars:
  office: { timezone: Asia/Shanghai, week: { mon-fri: ["09:00-18:00"] } }
departments:
  - id: it
    name: { en: IT, zh-CN: 信息技术部 }
    slack: { channel: C0IT }
    members: [slack:UIT1]
    supervisors: [slack:UBOSS]
    calendar: always
    routing: { strategy: claim }
categories:
  - id: fault
    name: { en: Fault, zh-CN: 故障类 }
    department: it
    children:
      - id: login
        name: { en: Login, zh-CN: 登录问题 }
        children:
          - { id: no-code, name: { en: No verification code, zh-CN: 收不到验证码 } }
sla:
  - { id: fast, match: { priority: [low, normal, high, urgent] }, first_response: 2s, resolution: 1h, calendar: always }
escalation:
  - { at: 100%, notify: department_channel }
  - { at: 150%, notify: supervisors }
`;

async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', (code) => {
      clearTimeout(force);
      resolve(code);
    });
    child.kill('SIGTERM');
  });
}

// Two processes sharing one database is the PostgreSQL scale-out path; SQLite is one process by design.
const url = process.env.TEST_DATABASE_URL;
const describeWithPostgres = url ? describe : describe.skip;

describeWithPostgres('two `npm start` replicas sharing PostgreSQL', () => {
  let fake: FakeSlack;
  let storage: Storage;
  const schema = `r_${randomBytes(5).toString('hex')}`;
  const children: ChildProcess[] = [];
  const output: string[] = [];

  beforeAll(async () => {
    fake = new FakeSlack();
    await fake.start();
    for (const id of ['UREQ', 'UIT1', 'UBOSS', 'UADMIN']) fake.addUser({ id, name: id, locale: 'en-US', tz: 'Asia/Shanghai' });
    fake.addChannel({ id: 'C0IT', name: 'it-desk', members: ['UBOT', 'UIT1'] });
    storage = await openMigratedPostgres(url!, schema);
  });

  afterAll(async () => {
    // SIGTERM: tsx passes it on to the node process it started (SIGKILL would orphan that one).
    await Promise.all(children.map((c) => stopChild(c)));
    await fake.stop();
    await storage.close();
  });

  it('sends every card, reminder and escalation exactly once, and stops cleanly on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ticketbot-replicas-'));
    writeFileSync(join(dir, 'ticketbot.yaml'), CONFIG);
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      DATABASE_URL: `${url}${url!.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      SLACK_BOT_TOKEN: fake.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      TICKETBOT_TICK: '200ms',
      TICKETBOT_SECRET: 'replicas-dashboard-secret',
      PORT: '0',
    };
    for (const name of ['a', 'b']) {
      const child = spawn(TSX, [MAIN], { cwd: dir, env });
      child.stdout!.on('data', (d: Buffer) => output.push(`${name}: ${d.toString()}`));
      child.stderr!.on('data', (d: Buffer) => output.push(`${name}: ${d.toString()}`));
      children.push(child);
    }
    await waitFor('both replicas to start their schedulers', () => (output.join('').match(/scheduler: on/g)?.length ?? 0) >= 2);

    // Tickets raised through the core, as a listener on either replica would.
    const ctx = testContext(storage, new ManualTime(new Date()), loadConfigFile(join(dir, 'ticketbot.yaml')));
    ctx.time = { now: () => new Date() };
    const u = await seedUsers(ctx, [{ platform: 'slack', id: 'UREQ', name: 'Rita' }]);
    const keys: string[] = [];
    for (let i = 0; i < 3; i++) {
      const created = await createTicket(ctx, { meta: as(u.UREQ!), categoryId: 'no-code', title: `printer ${i}`, description: '' });
      if (!created.ok) throw new Error(JSON.stringify(created));
      keys.push(created.value.ticket.key);
    }

    const escalations = () => fake.messages.filter((m) => m.channel === 'DUBOSS');
    await waitFor('an escalation DM per ticket', () => escalations().length >= 3, 60_000);
    // Let any duplicate that would come arrive.
    await new Promise((r) => setTimeout(r, 3000));

    const tagged = fake.messages.filter((m) => m.metadata?.event_type === 'ticketbot_outbox').map((m) => String(m.metadata!.event_payload.outbox_id));
    expect(new Set(tagged).size).toBe(tagged.length);
    const sent = await storage.db.selectFrom('outbox').select(['id', 'event', 'status']).where('platform', '=', 'slack').execute();
    expect(sent.filter((r) => r.status !== 'sent')).toEqual([]);
    // Every row that posts a message posted exactly one (card refreshes edit messages instead).
    expect(tagged.sort()).toEqual(sent.filter((r) => r.event !== 'card.refresh').map((r) => r.id).sort());
    for (const key of keys) {
      expect(escalations().filter((m) => (m.text ?? '').includes(key))).toHaveLength(1);
      expect(fake.messages.filter((m) => m.channel === 'C0IT' && !m.thread_ts && (m.text ?? '').includes(key))).toHaveLength(1);
      expect(fake.messages.filter((m) => m.channel === 'C0IT' && m.thread_ts && (m.text ?? '').includes(key))).toHaveLength(1);
    }
    const firings = await storage.db.selectFrom('escalation_firings').select('key').execute();
    expect(firings).toHaveLength(6);

    expect(await Promise.all(children.map((c) => stopChild(c)))).toEqual([0, 0]);
  }, 120_000);
});
