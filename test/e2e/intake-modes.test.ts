import pino from 'pino';
import { newId } from '../../src/app/ids';
import { calendarsFromConfig } from '../../src/domain/calendar';
import type { AppContext } from '../../src/app/context';
import { createFeishuApp } from '../../src/feishu/app';
import { InboundQueue } from '../../src/jobs/inbound';
import { createSlackApp } from '../../src/slack/app';
import type { Storage } from '../../src/storage/database';
import { storageFeishuPorts } from '../../src/wiring/feishu-ports';
import { storageSlackPorts } from '../../src/wiring/slack-ports';
import { feishuTestConfig, LONG_CONNECTION_APP_ID, TENANT } from '../fakes/feishu-harness';
import { startFakeFeishu } from '../fakes/feishu-server';
import { slackTestConfig } from '../fakes/slack-harness';
import { FakeSlack } from '../fakes/slack-server';
import { openMigratedSqlite } from '../support/storage';

/**
 * The durable intake on the socket transports: Slack Socket Mode and Feishu's long connection store
 * each payload before their ack, work it once, and recognise a redelivery.
 */

async function waitFor(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function context(storage: Storage, config: AppContext['config']): AppContext {
  return { db: storage.db, dialect: storage.dialect, config, calendars: calendarsFromConfig(config.raw), time: { now: () => new Date() }, logger: pino({ level: 'silent' }), newId: () => newId() };
}

const inbound = (storage: Storage) => storage.db.selectFrom('inbound_events').select(['platform', 'kind', 'status', 'dedup_key']).execute();
const ticketCount = async (storage: Storage) => (await storage.db.selectFrom('tickets').select('id').execute()).length;

it('Slack Socket Mode: a command is stored before its ack, worked once, and its redelivery is only acked', async () => {
  const storage = await openMigratedSqlite();
  const fake = new FakeSlack();
  await fake.start();
  fake.addUser({ id: 'UREQ', name: 'Rita', locale: 'en-US' });
  for (const [id, name] of [['C0IT', 'it'], ['C0FIN', 'fin'], ['C0GEN', 'general']] as const) fake.addChannel({ id, name, members: ['UBOT', 'UREQ'] });
  const ctx = context(storage, slackTestConfig());
  const intake = new InboundQueue({ db: storage.db, dialect: storage.dialect, owner: 'test', time: ctx.time, logger: ctx.logger, newId: ctx.newId });
  const slack = await createSlackApp({ ctx, env: { SLACK_BOT_TOKEN: fake.botToken, SLACK_APP_TOKEN: fake.appToken, SLACK_API_URL: fake.apiUrl }, ports: storageSlackPorts(ctx), clientOptions: { retryConfig: { retries: 0 } }, memberSyncMs: 0, intake });
  try {
    await slack.start();
    const payload = { team_id: fake.teamId, channel_id: 'C0GEN', user_id: 'UREQ', command: '/ticket', text: 'the printer is on fire', trigger_id: 'trig.socket.1', response_url: fake.responseUrl('s1') };
    const first = await fake.sendEnvelope('slash_commands', payload, { envelopeId: 'env-1' });
    expect(first.envelope_id).toBe('env-1');
    await waitFor(async () => (await inbound(storage))[0]?.status === 'done', 'the command to be worked');
    await fake.sendEnvelope('slash_commands', payload, { envelopeId: 'env-1', retryAttempt: 1 });
    await new Promise((r) => setTimeout(r, 200));
    expect(await inbound(storage)).toEqual([{ platform: 'slack', kind: 'command', status: 'done', dedup_key: 'slack:command:trig.socket.1' }]);
    expect(await ticketCount(storage)).toBe(1);
    expect(intake.stats).toMatchObject({ admitted: 1, duplicates: 1 });
  } finally {
    await slack.stop();
    await intake.drain(1000);
    await fake.stop();
    await storage.close();
  }
});

it('Feishu long connection: a form submission is stored before its ack, worked once, and a re-push is only acked', async () => {
  const storage = await openMigratedSqlite();
  const fake = await startFakeFeishu({ appId: LONG_CONNECTION_APP_ID });
  fake.addUser({ open_id: 'ou_req', name: '张三' });
  const ctx = context(storage, feishuTestConfig());
  const intake = new InboundQueue({ db: storage.db, dialect: storage.dialect, owner: 'test', time: ctx.time, logger: ctx.logger, newId: ctx.newId });
  const app = createFeishuApp({ ctx, env: { FEISHU_APP_ID: fake.appId, FEISHU_APP_SECRET: fake.appSecret }, ports: storageFeishuPorts(storage.db, () => new Date().toISOString()), domain: fake.url, intake });
  if (!app.enabled) throw new Error(app.reason);
  try {
    await app.start();
    await waitFor(async () => fake.socketCount === 1, 'the long connection');
    const envelope = {
      schema: '2.0',
      header: { event_id: 'ev_ws_1', event_type: 'card.action.trigger', create_time: String(Date.now()), token: 'x', app_id: fake.appId, tenant_key: TENANT },
      event: {
        operator: { open_id: 'ou_req', tenant_key: TENANT },
        action: { value: { a: 'submit', f: 'new', fid: 'form-ws-1', cat: 'broken-screen' }, tag: 'button', name: 'submit', form_value: { title: '屏幕坏了', description: '' } },
        context: { open_message_id: 'om_form_ws', open_chat_id: fake.p2pChatOf('ou_req') },
      },
    };
    const ack = await fake.pushEvent(envelope);
    expect(ack.code).toBe(200);
    await waitFor(async () => (await inbound(storage))[0]?.status === 'done', 'the submission to be worked');
    const again = await fake.pushEvent(envelope);
    expect(again.code).toBe(200);
    expect(await inbound(storage)).toEqual([{ platform: 'feishu', kind: 'card.action.trigger', status: 'done', dedup_key: 'feishu:ev_ws_1' }]);
    expect(await ticketCount(storage)).toBe(1);
  } finally {
    await app.stop();
    await intake.drain(1000);
    await fake.stop();
    await storage.close();
  }
});
