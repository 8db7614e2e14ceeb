import { importArticles } from '../../src/app/kb';
import { t } from '../../src/chat/i18n';
import { rt } from '../../src/reports/i18n';
import { ACTION, BLOCK } from '../../src/slack/ids';
import { cardText, findControl } from '../fakes/feishu-harness';
import { FeishuParity, SlackParity, type ParityDriver, type Person } from '../fakes/parity-drivers';
import { blockText } from '../fakes/slack-harness';
import { storageVariants, type StorageVariant } from '../support/storage';

/**
 * Issue 18 in chat, through each platform's own signed requests to its fake, on SQLite and
 * PostgreSQL: articles offered before a ticket (quick create, DM, the new-ticket form), "Solved"
 * (no ticket) and "Still need help" (the ticket, once, with the suggestions on its card), "Send as
 * reply" from the card, "Save as answer" on the resolved ticket, and the figure in /ticket stats.
 */

const md = (fm: string, body: string) => `---\n${fm}\n---\n${body}\n`;
const RESET_BODY = 'Choose **Forgot password** on the [sign-in page](https://sso.example.com). <!channel>\n\n## Still stuck?\n\nRun `passwd` on the VPN host.';

async function seed(d: ParityDriver): Promise<Record<string, string>> {
  const results = await importArticles({ db: d.storage.db, config: d.ctx.config, now: new Date('2026-03-02T08:00:00Z'), actorId: 'admin' }, [
    { slug: 'reset-password', text: md('title: How to reset your password\ncategory: inquiry\nlang: en', RESET_BODY) },
    { slug: 'password-rules', text: md('title: Password rules\ncategory: inquiry\nlang: en', 'At least 12 characters.') },
    { slug: 'refund-policy', text: md('title: Refund policy for a password manager\ncategory: after-sales\nlang: en', 'Finance only.') },
  ]);
  expect(results.every((r) => r.outcome === 'created')).toBe(true);
  const rows = await d.storage.db.selectFrom('kb_articles').select(['id', 'slug']).execute();
  return Object.fromEntries(rows.map((r) => [r.slug, r.id]));
}

/** The knowledge-base steps on each platform, with what the person saw privately during them. */
interface KbSteps {
  /** Presses "Solved" (under article `index`) or "Still need help" on the last offer the person got. */
  answer(who: Person, answer: 'solved' | 'still', index?: number): Promise<string>;
  /** Presses "Send as reply" under suggested article `index` on the ticket's card in IT's channel. */
  send(who: Person, key: string, index: number): Promise<string>;
  /** Opens "Save as answer" on the card; returns the prefilled title and body, then submits (prefill unless given). */
  saveAnswer(who: Person, key: string, values: { tags?: string; body?: string }): Promise<{ prefill: { title: string; body: string }; seen: string }>;
  /** The new-ticket form, walked to the how-to category and submitted. */
  formTicket(who: Person, title: string, description: string): Promise<string>;
}

function slackSteps(d: SlackParity): KbSteps {
  const h = d.h;
  const uid = (who: Person) => d.userId(who).slice('slack:'.length);
  const seenDuring = async (who: Person, step: () => Promise<unknown>): Promise<string> => {
    const calls = h.fake.calls.length;
    const responses = h.fake.responses.length;
    await step();
    const u = uid(who);
    const out: string[] = [];
    for (const c of h.fake.calls.slice(calls)) {
      const mine = c.args.user === u || c.args.channel === u || c.args.channel === `D${u}`;
      if ((c.method === 'chat.postEphemeral' || c.method === 'chat.postMessage' || c.method === 'chat.update') && mine) out.push(`${c.args.text ?? ''}\n${blockText(c.args.blocks ?? [])}`);
    }
    for (const r of h.fake.responses.slice(responses)) out.push(`${r.body.text ?? ''}\n${blockText(r.body.blocks ?? [])}`);
    return out.join('\n');
  };
  const lastOffer = (who: Person) => {
    const u = uid(who);
    const calls = [...h.fake.calls].reverse().filter((c) => (c.method === 'chat.postMessage' || c.method === 'chat.postEphemeral') && (c.args.user === u || c.args.channel === u || c.args.channel === `D${u}`));
    const posted = calls.find((c) => JSON.stringify(c.args.blocks ?? []).includes(ACTION.kbStill));
    const responded = [...h.fake.responses].reverse().find((r) => JSON.stringify(r.body.blocks ?? []).includes(ACTION.kbStill));
    const blocks = (posted?.args.blocks ?? responded?.body.blocks) as unknown[] | undefined;
    if (!blocks) throw new Error(`${who} got no offer`);
    const dm = posted && String(posted.args.channel).replace(/^U/, 'DU');
    const message = dm ? h.fake.messagesIn(dm).find((m) => JSON.stringify(m.blocks ?? []).includes(ACTION.kbStill)) : undefined;
    return { blocks, channel: message?.channel ?? 'C0GEN', ts: message?.ts ?? '1700000000.000001' };
  };
  const value = (blocks: unknown, actionId: string): string => {
    const found = JSON.stringify(blocks).match(new RegExp(`"action_id":"${actionId}","value":"([^"]*)"`)) ?? JSON.stringify(blocks).match(new RegExp(`"value":"([^"]*)"[^}]*"action_id":"${actionId}"`));
    if (!found) throw new Error(`no ${actionId} in ${JSON.stringify(blocks).slice(0, 300)}`);
    return found[1]!;
  };
  return {
    answer: (who, answer, index = 0) => {
      const offer = lastOffer(who);
      const actionId = answer === 'still' ? ACTION.kbStill : `${ACTION.kbSolved}_${index}`;
      return seenDuring(who, () => h.press(uid(who), actionId, value(offer.blocks, actionId), offer));
    },
    send: (who, key, index) => {
      const card = h.cardIn('C0IT', key)!;
      const actionId = `${ACTION.kbSend}_${index}`;
      return seenDuring(who, () => h.press(uid(who), actionId, value(card.blocks, actionId), { channel: card.channel, ts: card.ts, blocks: card.blocks }));
    },
    saveAnswer: async (who, key, values) => {
      const card = h.cardIn('C0IT', key)!;
      const views = h.fake.views.size;
      await h.press(uid(who), ACTION.saveAnswer, value(card.blocks, ACTION.saveAnswer), { channel: card.channel, ts: card.ts, blocks: card.blocks });
      if (h.fake.views.size === views) return { prefill: { title: '', body: '' }, seen: blockText(h.fake.responses.at(-1)?.body.blocks ?? []) };
      const view = h.lastView();
      const initial = (block: string) => String((view.view.blocks as any[]).find((b) => b.block_id === block)?.element?.initial_value ?? '');
      const prefill = { title: initial(BLOCK.title), body: initial(BLOCK.message) };
      const res = await h.submit(uid(who), view, { [BLOCK.tags]: values.tags, ...(values.body !== undefined ? { [BLOCK.message]: values.body } : {}) });
      return { prefill, seen: res.body ? JSON.stringify(res.body) : '' };
    },
    formTicket: async (who, title, description) => {
      await h.command(uid(who), '', { channel: 'C0GEN' });
      let view = h.lastView();
      await h.selectInView(uid(who), view, `${ACTION.category}_1`, 'category_1_root', 'inquiry');
      view = h.fake.views.get(view.id)!;
      await h.selectInView(uid(who), view, `${ACTION.category}_2`, 'category_2_inquiry', 'how-to');
      view = h.fake.views.get(view.id)!;
      return seenDuring(who, () => h.submit(uid(who), view, { category_1_root: 'inquiry', category_2_inquiry: 'how-to', title, description }));
    },
  };
}

function feishuSteps(d: FeishuParity): KbSteps {
  const h = d.h;
  const oid = (who: Person) => d.userId(who).slice('feishu:'.length);
  const p2p = (who: Person) => h.fake.p2pChatOf(oid(who));
  const seenDuring = async (who: Person, step: () => Promise<{ body?: any } | undefined>): Promise<string> => {
    const before = h.fake.messagesIn(p2p(who)).length;
    const res = await step();
    const toast = res?.body?.toast?.content ?? '';
    const returned = res?.body?.card?.data ? cardText(res.body.card.data) : '';
    const sent = h.fake.messagesIn(p2p(who)).slice(before).map((m) => (m.msg_type === 'text' ? String((h.fake.parsed(m) as { text?: string }).text ?? '') : cardText(h.fake.parsed(m))));
    return [toast, returned, ...sent].join('\n');
  };
  const lastWith = (chat: string, test: (v: Record<string, unknown>) => boolean) => {
    const m = [...h.fake.messagesIn(chat)].reverse().find((x) => findControl(h.fake.parsed(x), test));
    if (!m) throw new Error('no such card');
    return m;
  };
  const itCard = (key: string) => h.fake.messagesIn('oc_help').find((m) => m.msg_type === 'interactive' && cardText(h.fake.parsed(m)).includes(key))!;
  return {
    answer: (who, answer, index = 0) => {
      const offer = lastWith(p2p(who), (v) => v.a === 'kb' && v.k === 'still');
      const values: Record<string, unknown>[] = [];
      findControl(h.fake.parsed(offer), (v) => (v.a === 'kb' && v.k === 'solved' ? (values.push(v), false) : false));
      const value = answer === 'still' ? findControl(h.fake.parsed(offer), (v) => v.a === 'kb' && v.k === 'still') : values[index];
      return seenDuring(who, () => h.click(oid(who), offer.message_id, value));
    },
    send: (who, key, index) => {
      const card = itCard(key);
      const values: Record<string, unknown>[] = [];
      findControl(h.fake.parsed(card), (v) => (v.a === 'kb' && v.k === 'send' ? (values.push(v), false) : false));
      return seenDuring(who, () => h.click(oid(who), card.message_id, values[index]));
    },
    saveAnswer: async (who, key, values) => {
      const card = itCard(key);
      const open = findControl(h.fake.parsed(card), (v) => v.a === 'form' && v.f === 'save_answer');
      if (!open) return { prefill: { title: '', body: '' }, seen: 'no button' };
      const before = h.fake.messagesIn(p2p(who)).length;
      const opened = await h.click(oid(who), card.message_id, open);
      const form = h.fake.messagesIn(p2p(who)).slice(before).find((m) => findControl(h.fake.parsed(m), (v) => v.a === 'submit'));
      if (!form) return { prefill: { title: '', body: '' }, seen: opened.body?.toast?.content ?? '' };
      const initial = (name: string) => String(findInput(h.fake.parsed(form), name)?.default_value ?? '');
      const prefill = { title: initial('title'), body: initial('body') };
      const submit = findControl(h.fake.parsed(form), (v) => v.a === 'submit' && v.f === 'save_answer');
      const res = await h.click(oid(who), form.message_id, submit, { formValue: { title: prefill.title, body: values.body ?? prefill.body, tags: values.tags ?? '' } });
      return { prefill, seen: `${res.body?.toast?.content ?? ''}` };
    },
    formTicket: async (who, title, description) => {
      await h.say(oid(who), '/ticket');
      const formMsg = [...h.fake.messagesIn(p2p(who))].reverse().find((m) => findControl(h.fake.parsed(m), (v) => v.a === 'cat'))!;
      let current: unknown = h.fake.parsed(formMsg);
      for (const [level, option] of [[1, 'inquiry'], [2, 'how-to']] as const) {
        const select = findControl(current, (v) => v.a === 'cat' && v.lvl === level);
        current = (await h.click(oid(who), formMsg.message_id, select, { option })).body.card.data;
      }
      const submit = findControl(current, (v) => v.a === 'submit' && v.f === 'new');
      return seenDuring(who, () => h.click(oid(who), formMsg.message_id, submit, { formValue: { title, description, priority: 'normal' } }));
    },
  };
}

function findInput(card: unknown, name: string): Record<string, unknown> | undefined {
  let found: Record<string, unknown> | undefined;
  const walk = (node: unknown): void => {
    if (found || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    const o = node as Record<string, unknown>;
    if (o.tag === 'input' && o.name === name) found = o;
    else Object.values(o).forEach(walk);
  };
  walk(card);
  return found;
}

const count = async (d: ParityDriver, table: 'tickets' | 'messages') =>
  Number((await d.storage.db.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
const deflections = (d: ParityDriver) => d.storage.db.selectFrom('kb_deflections').selectAll().orderBy('created_at').orderBy('id').execute();

describe.each(storageVariants())('knowledge-base deflection in chat ($name)', (variant: StorageVariant) => {
  it.each([
    ['slack', async (v: StorageVariant) => { const d = await SlackParity.start(await v.open()); return { d, steps: slackSteps(d) }; }],
    ['feishu', async (v: StorageVariant) => { const d = await FeishuParity.start(await v.open()); return { d, steps: feishuSteps(d) }; }],
  ] as const)('%s: offer, Solved, Still need help (once), suggested articles, Send as reply, Save as answer, stats', async (_name, start) => {
    const { d, steps } = await start(variant);
    try {
      const ids = await seed(d);
      const offerTitle = t('en', 'chat.deflect.title');

      // 1. /ticket <text>: the articles first, privately; no ticket yet. Only the category's subtree is searched.
      const quick = await d.command('requester', 'How do I reset my password?');
      expect(quick.private).toContain(offerTitle);
      expect(quick.private).toContain('How to reset your password');
      expect(quick.private).not.toContain('Refund policy');
      expect(quick.public.replace(t('en', 'chat.sent_privately'), '').trim()).toBe('');
      expect(await count(d, 'tickets')).toBe(0);

      // Solved: a self-service resolution, no ticket; a second press changes nothing.
      const solved = await steps.answer('requester', 'solved', 0);
      expect(solved).toContain(t('en', 'chat.deflect.thanks'));
      await steps.answer('requester', 'solved', 0).catch(() => undefined);
      expect(await count(d, 'tickets')).toBe(0);
      let rows = await deflections(d);
      expect(rows.map((r) => [r.outcome, r.article_id, r.requester_id, r.source])).toEqual([['solved', ids['reset-password'], d.userId('requester'), d.platform]]);

      // 2. A DM: offered again; "Still need help" pressed twice raises ONE ticket with the offer attached.
      const dm = await d.dm('requester', 'reset password link never arrives');
      expect(d.everythingSeenBy('requester')).toContain(offerTitle);
      expect(dm.public).toBe('');
      expect(await count(d, 'tickets')).toBe(0);
      const still = await steps.answer('requester', 'still');
      const ticket = await d.storage.db.selectFrom('tickets').selectAll().executeTakeFirstOrThrow();
      expect(still).toContain(ticket.key);
      expect(ticket.title).toBe('reset password link never arrives');
      await steps.answer('requester', 'still').catch(() => undefined);
      expect(await count(d, 'tickets')).toBe(1);
      rows = await deflections(d);
      expect(rows[1]).toMatchObject({ outcome: 'escalated', ticket_id: ticket.id });
      // "Solved" after the ticket was raised is refused (the offer is closed).
      expect(await steps.answer('requester', 'solved', 0).catch(() => '')).not.toContain(t('en', 'chat.deflect.thanks'));
      expect((await deflections(d))[1]!.outcome).toBe('escalated');

      // 3. The card in IT's channel: suggested articles with "Send as reply".
      await d.deliver();
      const cardBefore = d.cardText(ticket.key, 'it');
      expect(cardBefore).toContain(t('en', 'ui.card.suggested_articles'));
      expect(cardBefore).toContain('How to reset your password');
      expect(cardBefore).toContain(t('en', 'ui.card.send_article'));
      // An agent sends the article as the public reply: once, even on a double click.
      await d.claim('member', ticket.key);
      await d.deliver();
      const sent = await steps.send('member', ticket.key, 0);
      expect(sent).toContain(t('en', 'chat.kb.sent', { title: 'How to reset your password', key: ticket.key }));
      await steps.send('member', ticket.key, 0);
      const replies = await d.storage.db.selectFrom('messages').selectAll().where('ticket_id', '=', ticket.id).where('visibility', '=', 'public').where('author_role', '<>', 'requester').execute();
      expect(replies).toHaveLength(1);
      // Title first; the Markdown the platforms would show raw is plain text.
      expect(replies[0]!.body.startsWith('How to reset your password\n\n')).toBe(true);
      expect(replies[0]!.body).toContain('Choose Forgot password on the sign-in page (https://sso.example.com).');
      expect(replies[0]!.body).not.toMatch(/\*\*|## |`/);
      const audit = await d.storage.db.selectFrom('audit_events').select('action').where('ticket_id', '=', ticket.id).execute();
      expect(audit.map((a) => a.action)).toContain('replied');
      await d.deliver();
      // The requester gets it like any reply; the mention in the article is never live.
      expect(d.everythingSeenBy('requester')).toContain('Forgot password');
      // 4. Resolved: "Save as answer" on the card, prefilled from the resolution note.
      await d.form('member', ticket.key, 'resolve', { note: 'Reset it from the sign-in page, then wait 5 minutes.' });
      await d.deliver();
      expect(d.cardText(ticket.key, 'it')).toContain(t('en', 'ui.action.save_answer'));
      // Not for the requester: the form does not open for them.
      const refused = await steps.saveAnswer('requester', ticket.key, {});
      expect(refused.prefill).toEqual({ title: '', body: '' });
      const saved = await steps.saveAnswer('member', ticket.key, { tags: 'password, sso' });
      expect(saved.prefill).toEqual({ title: ticket.title, body: 'Reset it from the sign-in page, then wait 5 minutes.' });
      const article = await d.storage.db.selectFrom('kb_articles').selectAll().where('slug', '=', `ticket-${ticket.key.toLowerCase()}`).executeTakeFirstOrThrow();
      expect(article).toMatchObject({ title: ticket.title, body: 'Reset it from the sign-in page, then wait 5 minutes.', category_id: 'how-to', lang: 'en', owner_id: d.userId('member') });
      expect(JSON.parse(article.tags)).toEqual(['password', 'sso']);
      const kbAudit = await d.storage.db.selectFrom('kb_audit').selectAll().where('article_id', '=', article.id).execute();
      expect(kbAudit.map((a) => a.actor_id)).toEqual([d.userId('member')]);

      // 5. The new-ticket form: the offer first, then "Still need help" raises the ticket as filled in.
      const viaForm = await steps.formTicket('requester', 'Password reset again', 'Forgot it once more');
      expect(viaForm).toContain(offerTitle);
      expect(await count(d, 'tickets')).toBe(1);
      await steps.answer('requester', 'still');
      const second = await d.storage.db.selectFrom('tickets').selectAll().where('title', '=', 'Password reset again').executeTakeFirstOrThrow();
      expect(second).toMatchObject({ category_id: 'how-to', description: 'Forgot it once more', requester_id: d.userId('requester') });

      // 6. No article matches: the ticket is raised at once, as before.
      await d.command('requester', 'The coffee machine leaks');
      expect(await count(d, 'tickets')).toBe(3);
      expect(await d.storage.db.selectFrom('kb_deflections').select('id').execute()).toHaveLength(3);

      // 7. /ticket stats (complete days: the next day) shows the self-service figure: 1 of 3 answered offers.
      d.h.time.advance(86_400_000);
      const stats = await d.command('supervisor', 'stats');
      expect(stats.private).toContain(rt('en', 'metric.self_service'));
      expect(stats.private).toContain('1 of 3 answered article offers');
      expect(stats.private).toContain('"How to reset your password": 3 views, 1 solved, 2 still needed help');
    } finally {
      await d.stop();
    }
  });

  it.each([
    ['slack', async (v: StorageVariant) => { const d = await SlackParity.start(await v.open()); return { d, steps: slackSteps(d) }; }],
    ['feishu', async (v: StorageVariant) => { const d = await FeishuParity.start(await v.open()); return { d, steps: feishuSteps(d) }; }],
  ] as const)('%s: in Chinese, "收不到验证码" is offered "验证码收不到怎么办"; 仍需帮助 raises the ticket', async (_name, start) => {
    const { d, steps } = await start(variant);
    try {
      await importArticles({ db: d.storage.db, config: d.ctx.config, now: new Date('2026-03-02T08:00:00Z'), actorId: 'admin' }, [
        { slug: 'sms-code', text: md('title: 验证码收不到怎么办\ncategory: how-to\nlang: zh-CN', '请检查手机是否拦截了短信，然后点击“重新发送”。') },
        { slug: 'sms-code-en', text: md('title: No verification code\ncategory: how-to\nlang: en', 'Check your spam filter.') },
      ]);
      await d.command('requester', 'lang zh');
      const offered = await d.command('requester', '收不到验证码');
      expect(offered.private).toContain(t('zh-CN', 'chat.deflect.title'));
      expect(offered.private).toContain('验证码收不到怎么办');
      expect(offered.private).toContain(t('zh-CN', 'chat.deflect.still_need_help'));
      // Articles in the requester's language only.
      expect(offered.private).not.toContain('No verification code');
      const still = await steps.answer('requester', 'still');
      const ticket = await d.storage.db.selectFrom('tickets').selectAll().executeTakeFirstOrThrow();
      expect(still).toContain(t('zh-CN', 'chat.created', { key: ticket.key, title: '收不到验证码' }));
      expect(ticket).toMatchObject({ title: '收不到验证码', locale: 'zh-CN' });
    } finally {
      await d.stop();
    }
  });
});
