import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyIntakeQuery } from '../../src/web/intake/links';
import { runCli as cli } from '../support/cli';

/** `ticketbot integrations link` as a real process: a link the server verifies, --help and exit codes. */
jest.setTimeout(120_000);

describe('ticketbot integrations link', () => {
  const dir = mkdtempSync(join(tmpdir(), 'integ-cli-'));
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `${readFileSync('test/fixtures/config.yaml', 'utf8')}\nintegrations:\n  - { id: shop-app, key_env: SHOP_KEY }\n`);
  const env = { TICKETBOT_SECRET: 'cli-secret', TICKETBOT_PUBLIC_URL: 'https://desk.example.com/' };

  it('prints a signed link with the prefilled context that verifies under the secret', async () => {
    const run = await cli(['integrations', 'link', '--integration', 'shop-app', '--prefill', 'user=u-42', '--prefill', 'device=iPhone 15', '--expires', '30d', '--config', config], env);
    expect(run.code).toBe(0);
    const url = new URL(run.stdout.trim());
    expect(url.origin + url.pathname).toBe('https://desk.example.com/new');
    const check = verifyIntakeQuery(url.searchParams, 'cli-secret', Date.now());
    expect(check).toMatchObject({ ok: true, value: { integration: 'shop-app', prefill: { user: 'u-42', device: 'iPhone 15' } } });
    expect(verifyIntakeQuery(url.searchParams, 'other-secret', Date.now()).ok).toBe(false);
  });

  it('answers --help, and exits 2 for an unknown integration, a bad prefill or a missing secret', async () => {
    const [help, unknown, badPrefill, noSecret] = await Promise.all([
      cli(['integrations', 'link', '--help'], env),
      cli(['integrations', 'link', '--integration', 'nope', '--config', config], env),
      cli(['integrations', 'link', '--integration', 'shop-app', '--prefill', 'Bad Name=x', '--config', config], env),
      cli(['integrations', 'link', '--integration', 'shop-app', '--config', config], { ...env, TICKETBOT_SECRET: undefined }),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--prefill <field=value>');
    expect([unknown.code, badPrefill.code, noSecret.code]).toEqual([2, 2, 2]);
    expect(unknown.stderr).toContain('unknown integration "nope" (configured: shop-app)');
    expect(noSecret.stderr).toContain('TICKETBOT_SECRET is not set');
  });
});
