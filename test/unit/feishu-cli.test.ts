import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { feishuSetup, DEFAULT_MANIFEST_DIR } from '../../src/cli/feishu';
import { startFakeFeishu, type FakeFeishu } from '../fakes/feishu-server';

let fake: FakeFeishu;
beforeEach(async () => {
  fake = await startFakeFeishu();
});
afterEach(async () => {
  await fake.stop();
});

const manifestScopes = (JSON.parse(readFileSync(join(DEFAULT_MANIFEST_DIR, 'scopes.json'), 'utf8')) as { scopes: { name: string; optional?: boolean }[] }).scopes;

async function run(apply: boolean): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await feishuSetup({ env: { FEISHU_APP_ID: fake.appId, FEISHU_APP_SECRET: fake.appSecret }, apply, domain: fake.url, print: (l) => lines.push(l) });
  return { code, out: lines.join('\n') };
}

describe('ticketbot feishu setup', () => {
  it('lists missing scopes and the console checklist, exit 1 while a required scope is missing', async () => {
    fake.grantedScopes.add('im:message');
    const { code, out } = await run(false);
    expect(code).toBe(1);
    expect(out).toContain('✓ im:message —');
    expect(out).toContain('✗ im:message.group_msg');
    expect(out).toContain('callback card.action.trigger');
    expect(out).toContain('ticket_new: 提交工单 / New ticket');
    expect(fake.appliedScopes).toHaveLength(0);
  });

  it('--apply asks the admin through the application API', async () => {
    const { code, out } = await run(true);
    expect(code).toBe(0);
    expect(fake.appliedScopes).toHaveLength(1);
    expect(out).toContain(`Asked the tenant admin to grant ${manifestScopes.length} scope(s)`);
  });

  it('exit 0 and no request when everything is granted', async () => {
    for (const s of manifestScopes) fake.grantedScopes.add(s.name);
    const { code, out } = await run(true);
    expect(code).toBe(0);
    expect(out).toContain('All scopes are granted.');
    expect(fake.appliedScopes).toHaveLength(0);
  });

  it('refuses to run without credentials (usage error)', async () => {
    await expect(feishuSetup({ env: {}, apply: false, print: () => undefined })).rejects.toThrow('FEISHU_APP_ID');
  });
});
