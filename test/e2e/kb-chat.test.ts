import { importArticles } from '../../src/app/kb';
import { t } from '../../src/chat/i18n';
import { FeishuParity, SlackParity, type ParityDriver } from '../fakes/parity-drivers';
import { storageVariants, type StorageVariant } from '../support/storage';

/**
 * `/ticket kb <words>` and `/工单 知识 <words>` through each platform's own signed requests: the same
 * parser and dispatcher, the same private answer, on SQLite and PostgreSQL.
 */
const md = (fm: string, body: string) => `---\n${fm}\n---\n${body}\n`;

async function seed(d: ParityDriver): Promise<void> {
  const results = await importArticles({ db: d.storage.db, config: d.ctx.config, now: new Date('2026-03-02T08:00:00Z'), actorId: 'admin' }, [
    { slug: 'sms-code', text: md('title: 验证码收不到怎么办\nlang: zh-CN', '请检查手机是否拦截了短信，然后点击“重新发送”。') },
    { slug: 'reset-password', text: md('title: How to reset your password\nlang: en', 'Choose "Forgot password" on the sign-in page.') },
    { slug: 'printer-jam', text: md('title: Printer paper jam\nlang: en', 'Open the front tray and pull the sheet out gently.') },
  ]);
  expect(results.every((r) => r.outcome === 'created')).toBe(true);
}

describe.each(storageVariants())('knowledge base from chat ($name)', (variant: StorageVariant) => {
  it.each([
    ['slack', SlackParity.start],
    ['feishu', FeishuParity.start],
  ] as const)('%s: /ticket kb and /工单 知识 answer privately with ranked titles', async (_name, start) => {
    const d = await start(await variant.open());
    try {
      await seed(d);
      const en = await d.command('requester', 'kb resetting my password');
      expect(en.private).toContain(t('en', 'chat.kb.title', { words: 'resetting my password' }));
      expect(en.private).toContain('1. How to reset your password');
      expect(en.private).not.toContain('Printer paper jam');
      // The Chinese alias; no English article matches, so articles in any language are searched.
      const zh = await d.command('requester', '知识 收不到验证码');
      expect(zh.private).toContain('1. 验证码收不到怎么办');
      const none = await d.command('requester', 'kb coffee machine');
      expect(none.private).toContain(t('en', 'chat.kb.none', { words: 'coffee machine' }));
      const usage = await d.command('requester', 'kb');
      expect(usage.private).toContain(t('en', 'chat.kb.usage'));
      for (const seen of [en, zh, none, usage]) expect(seen.public.replace(t('en', 'chat.sent_privately'), '').trim()).toBe('');
      // Searching raises no ticket.
      const tickets = await d.storage.db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      expect(Number(tickets.n)).toBe(0);
    } finally {
      await d.stop();
    }
  });
});
