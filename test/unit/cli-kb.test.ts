import { runCli as cli } from '../support/cli';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** `ticketbot kb import` and `kb search` as real subprocesses against a SQLite file. */

jest.setTimeout(120_000);

describe('ticketbot kb', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kb-cli-'));
  const articles = join(dir, 'articles');
  mkdirSync(articles);
  writeFileSync(join(articles, 'sms-code.md'), '---\ntitle: 验证码收不到怎么办\ncategory: login\nlang: zh-CN\ntags: [短信, 登录]\n---\n请检查手机是否拦截了短信，然后点击“重新发送”。\n');
  writeFileSync(join(articles, 'reset-password.md'), '---\ntitle: How to reset your password\ncategory: login\nlang: en\n---\nChoose "Forgot password" on the sign-in page.\n');
  writeFileSync(join(articles, 'broken.md'), '---\ntitle: Broken\nlang: fr\n---\nbody\n');
  writeFileSync(join(articles, 'notes.txt'), 'not an article');
  const env = { TICKETBOT_DB_FILE: join(dir, 'kb.db'), DATABASE_URL: '' };
  const config = ['--config', 'test/fixtures/config.yaml'];

  it('imports (exit 1 naming the bad file), re-imports idempotently, and searches ranked titles', async () => {
    const first = await cli(['kb', 'import', articles, ...config], env);
    expect(first.stdout).toContain('2 created, 0 updated, 0 unchanged, 1 failed');
    expect(first.stderr).toMatch(/broken\.md: lang:/);
    expect(first.code).toBe(1);
    writeFileSync(join(articles, 'broken.md'), '---\ntitle: 退款多久到账\nlang: zh-CN\n---\n一般三到五个工作日到账。\n');
    const [second, zh, en, none] = await Promise.all([
      cli(['kb', 'import', articles, ...config], env),
      cli(['kb', 'search', '收不到验证码'], env),
      cli(['kb', 'search', 'resetting', 'passwords', '--lang', 'en'], env),
      cli(['kb', 'search', 'reset', 'password', '--lang', 'zh-CN'], env),
    ]);
    expect(second.stdout).toContain('1 created, 0 updated, 2 unchanged, 0 failed');
    expect(second.code).toBe(0);
    expect(zh.stdout).toMatch(/^1\. 验证码收不到怎么办 {2}\[sms-code, zh-CN, login\]/);
    expect(zh.code).toBe(0);
    expect(en.stdout).toMatch(/^1\. How to reset your password/);
    expect(none.stdout.trim()).toBe('no matching articles');
  });

  it('exits 2 on bad usage', async () => {
    const [badLang, noDir, badLimit, badCategory] = await Promise.all([
      cli(['kb', 'search', 'x', '--lang', 'fr'], env),
      cli(['kb', 'import', join(dir, 'missing')], env),
      cli(['kb', 'search', 'x', '--limit', '0'], env),
      cli(['kb', 'search', 'x', '--category', 'nowhere', ...config], env),
    ]);
    expect([badLang.code, noDir.code, badLimit.code, badCategory.code]).toEqual([2, 2, 2, 2]);
    expect(badCategory.stderr).toContain('unknown category "nowhere"');
  });
});
