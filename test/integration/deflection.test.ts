import { readFileSync } from 'node:fs';
import { createTicket } from '../../src/app/createTicket';
import { claimTicket, resolveTicket } from '../../src/app';
import { articleForReply, recordSelfService, suggestArticles, suggestedArticlesForTicket, type Suggestions } from '../../src/app/deflection';
import { importArticles, saveAnswerArticle, searchKnowledgeBase, type ArticleFile } from '../../src/app/kb';
import { parseConfigText } from '../../src/config/load';
import { metricsCsv } from '../../src/reports/export';
import { SELF_SERVICE_DEFINITION } from '../../src/reports/definitions';
import { loadMetrics } from '../../src/reports/queries';
import { selfServiceFigures } from '../../src/reports/self-service';
import { formatStatsText, sourceOf, statsSummary } from '../../src/reports/stats';
import type { Storage } from '../../src/storage/database';
import { as, FIXTURE_CONFIG, ManualTime, seedUsers, testContext } from '../support/app';
import { storageVariants } from '../support/storage';

/** Deflection (issue 18): articles offered before a ticket, Solved / Still need help, and the self-service rate. */
const fixture = readFileSync(FIXTURE_CONFIG, 'utf8');
// Refunds opt out of deflection; complaints are sensitive (fixture) and never deflect.
const text = fixture.replace('      - id: refund\n        name: { en: Refund, zh-CN: 退款 }\n', '      - id: refund\n        name: { en: Refund, zh-CN: 退款 }\n        deflect: false\n');
if (text === fixture) throw new Error('fixture changed: could not switch deflection off for refunds');
// A rule marks a ticket sensitive from its text (issue 18 follow-up: such a draft never deflects either).
const RULES = `
rules:
  - id: leaked-code-is-sensitive
    when: { text: "泄露|leaked" }
    then: { sensitive: true }
`;
const parsed = parseConfigText(text + RULES);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const config = parsed.config;

const md = (fm: string, body: string) => `---\n${fm}\n---\n${body}\n`;
const ARTICLES: ArticleFile[] = [
  { slug: 'sms-code', text: md('title: 验证码收不到怎么办\ncategory: login\nlang: zh-CN', '请先检查手机是否开启了**短信拦截**，然后在登录页点击“重新发送”。') },
  { slug: 'sms-code-2', text: md('title: 短信验证码延迟\ncategory: no-code\nlang: zh-CN', '运营商高峰期验证码可能延迟几分钟。') },
  { slug: 'reset-password', text: md('title: How to reset your password\ncategory: login\nlang: en', 'Open the sign-in page and choose "Forgot password".') },
  { slug: 'refund-time', text: md('title: 退款多久到账\ncategory: refund-request\nlang: zh-CN', '一般三到五个工作日到账。') },
  { slug: 'rude-staff', text: md('title: 客服态度不好怎么投诉\ncategory: attitude\nlang: zh-CN', '请直接提交投诉工单。') },
];

describe.each(storageVariants())('deflection on $name', (variant) => {
  let storage: Storage;
  const time = new ManualTime(new Date('2026-03-02T02:00:00Z'));
  let ctx: ReturnType<typeof testContext>;
  let users: Record<string, string>;

  beforeAll(async () => {
    storage = await variant.open();
    ctx = testContext(storage, time, config);
    users = await seedUsers(ctx, [
      { platform: 'slack', id: 'U_REQ', name: 'Requester' },
      { platform: 'slack', id: 'U_REQ2', name: 'Other' },
      { platform: 'slack', id: 'UIT1', name: 'Alan' },
    ]);
    await importArticles({ db: storage.db, config, now: time.now(), actorId: 'u-admin' }, ARTICLES);
  });
  afterAll(() => storage.close());

  const suggest = async (categoryId: string, title: string, lang: 'zh-CN' | 'en' = 'zh-CN', requesterId?: string): Promise<Suggestions> => {
    const r = await suggestArticles(ctx, { categoryId, title, lang, source: 'slack', requesterId });
    if (!r.ok) throw new Error(r.error.code);
    return r.value;
  };

  it('offers up to three articles of the category subtree in the requester language, with plain excerpts', async () => {
    const s = await suggest('no-code', '收不到验证码');
    expect(s.deflectionId).not.toBeNull();
    expect(s.articles.map((a) => a.slug)).toEqual(['sms-code', 'sms-code-2']);
    expect(s.articles[0]!.excerpt).toBe('请先检查手机是否开启了短信拦截，然后在登录页点击“重新发送”。');
    expect((await suggest('no-code', 'reset password', 'en')).articles.map((a) => a.slug)).toEqual(['reset-password']);
    expect(await suggest('no-code', 'reset password', 'zh-CN')).toEqual({ deflectionId: null, articles: [], reason: 'no_match' });
  });

  it('never deflects sensitive categories or categories with deflect: false', async () => {
    expect(await suggest('attitude', '客服态度不好')).toEqual({ deflectionId: null, articles: [], reason: 'not_deflected' });
    expect(await suggest('refund-request', '退款多久到账')).toEqual({ deflectionId: null, articles: [], reason: 'not_deflected' });
    expect(config.leaves.get('how-to')!.deflect).toBe(true);
    // A rule that marks the draft sensitive from its text stops the offer too (same evaluator as at creation).
    expect(await suggest('no-code', '收不到验证码，验证码泄露了')).toEqual({ deflectionId: null, articles: [], reason: 'not_deflected' });
    expect(await suggest('no-code', 'reset password, my old one leaked', 'en')).toEqual({ deflectionId: null, articles: [], reason: 'not_deflected' });
    const described = await suggestArticles(ctx, { categoryId: 'no-code', title: '收不到验证码', description: '验证码可能泄露', lang: 'zh-CN', source: 'api' });
    expect(described).toEqual({ ok: true, value: { deflectionId: null, articles: [], reason: 'not_deflected' } });
    const r = await suggestArticles(ctx, { categoryId: 'nowhere', title: 'x', lang: 'en', source: 'api' });
    expect(r).toEqual({ ok: false, error: { code: 'ticket.unknown_category', params: { category: 'nowhere' } } });
  });

  it('"Solved" records a self-service resolution without a ticket; idempotent; only the shown articles', async () => {
    const before = await storage.db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const s = await suggest('no-code', '收不到验证码', 'zh-CN', users.U_REQ);
    const sms = s.articles[0]!.id;
    expect(await recordSelfService(ctx, { deflectionId: s.deflectionId!, articleId: 'not-shown' })).toMatchObject({ ok: false, error: { code: 'kb.unknown_deflection' } });
    expect(await recordSelfService(ctx, { deflectionId: s.deflectionId!, requesterId: users.U_REQ2 })).toMatchObject({ ok: false, error: { code: 'kb.unknown_deflection' } });
    expect(await recordSelfService(ctx, { deflectionId: s.deflectionId!, articleId: sms })).toEqual({ ok: true, value: { outcome: 'solved', articleId: sms } });
    expect(await recordSelfService(ctx, { deflectionId: s.deflectionId!, articleId: sms })).toEqual({ ok: true, value: { outcome: 'solved', articleId: sms } });
    const after = await storage.db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n));
    expect(await recordSelfService(ctx, { deflectionId: 'missing' })).toMatchObject({ ok: false, error: { code: 'kb.unknown_deflection' } });
  });

  it('"Still need help" raises the ticket with the suggestions attached for the card; solving afterwards is refused', async () => {
    const s = await suggest('no-code', '收不到验证码', 'zh-CN', users.U_REQ);
    const created = await createTicket(ctx, {
      meta: as(users.U_REQ!, 'ev-still-1'),
      categoryId: 'no-code',
      title: '收不到验证码',
      description: '',
      fields: { account: 'a1', device: 'iPhone' },
      deflection: { id: s.deflectionId! },
    });
    if (!created.ok) throw new Error(created.error.code);
    const ticketId = created.value.ticket.id;
    expect((await suggestedArticlesForTicket(ctx, ticketId)).map((a) => a.slug)).toEqual(['sms-code', 'sms-code-2']);
    expect(await recordSelfService(ctx, { deflectionId: s.deflectionId! })).toMatchObject({ ok: false, error: { code: 'kb.deflection_closed' } });
    // Articles shown by a client itself (API `deflection.shown`) are recorded with the ticket.
    const shown = await createTicket(ctx, {
      meta: as(users.U_REQ!, 'ev-still-2'),
      categoryId: 'how-to',
      title: 'How do I reset my password',
      description: '',
      deflection: { shown: [s.articles[1]!.id, 'unknown-article'] },
    });
    if (!shown.ok) throw new Error(shown.error.code);
    expect((await suggestedArticlesForTicket(ctx, shown.value.ticket.id)).map((a) => a.slug)).toEqual(['sms-code-2']);
    // An unknown offer does not stop the ticket.
    const unknown = await createTicket(ctx, { meta: as(users.U_REQ!, 'ev-still-3'), categoryId: 'how-to', title: 'Question', description: '', deflection: { id: 'nope' } });
    expect(unknown.ok).toBe(true);
  });

  it('self-service rate and per-article figures in stats, the digest text and the metrics export', async () => {
    time.set('2026-03-03T02:00:00Z');

    const f = await selfServiceFigures(storage.db, { fromMs: Date.parse('2026-03-01T00:00:00Z'), toMs: Date.parse('2026-03-04T00:00:00Z'), departmentIds: ['it'] });
    // Offers with articles in IT: 2 (first test) + 1 solved + 1 escalated; the one shown by a client is how-to (department cs).
    expect({ offered: f.offered, solved: f.solved, escalated: f.escalated, rate: f.rate }).toEqual({ offered: 4, solved: 1, escalated: 1, rate: 0.5 });
    const sms = f.articles.find((a) => a.slug === 'sms-code')!;
    expect(sms).toMatchObject({ views: 3, solved: 1, stillNeedHelp: 1 });
    expect(f.articles.find((a) => a.slug === 'reset-password')).toMatchObject({ views: 1, solved: 0, stillNeedHelp: 0 });
    const all = await selfServiceFigures(storage.db, { fromMs: Date.parse('2026-03-01T00:00:00Z'), toMs: Date.parse('2026-03-04T00:00:00Z') });
    expect({ solved: all.solved, escalated: all.escalated }).toEqual({ solved: 1, escalated: 2 });

    const view = await statsSummary(ctx, { days: 7, departmentId: 'it' });
    if (!view.ok) throw new Error(view.error.code);
    const en = formatStatsText(view.value, 'en');
    expect(en).toContain('Self-service rate 50%: 1 of 2 answered article offers solved without a ticket (4 offers; previous n/a).');
    expect(en).toContain('"验证码收不到怎么办": 3 views, 1 solved, 1 still needed help');
    expect(formatStatsText(view.value, 'zh-CN')).toContain('自助解决率 50%');

    const report = await loadMetrics(sourceOf(ctx), { fromMs: Date.parse('2026-03-01T00:00:00Z'), toMs: Date.parse('2026-03-04T00:00:00Z') }, time.now().getTime());
    const csv = metricsCsv('en', [{ scope: 'all', report, selfService: all }]);
    expect(csv).toContain('all,Self-service rate,33.33,%,3');
    expect(SELF_SERVICE_DEFINITION.en).toMatch(/Still need help/);
  });

  it('"Save as answer" turns a resolved ticket into an article (staff only, idempotent by ticket) that the card can send as a reply', async () => {
    const created = await createTicket(ctx, { meta: as(users.U_REQ!, 'ev-answer-1'), categoryId: 'no-code', title: '换手机后收不到验证码', description: '', fields: { account: 'a', device: 'd' } });
    if (!created.ok) throw new Error(created.error.code);
    const key = created.value.ticket.key;
    const answer = { actorId: users.UIT1!, ticket: key, title: '换手机后收不到验证码', body: '在账号设置里重新绑定手机号即可。', lang: 'zh-CN' };
    expect(await saveAnswerArticle(ctx, answer)).toMatchObject({ ok: false, error: { code: 'ticket.not_resolved' } });
    await claimTicket(ctx, { meta: as(users.UIT1!), ticket: key });
    await resolveTicket(ctx, { meta: as(users.UIT1!), ticket: key, note: '重新绑定手机号' });
    expect(await saveAnswerArticle(ctx, { ...answer, actorId: users.U_REQ! })).toMatchObject({ ok: false, error: { code: 'ticket.not_allowed' } });
    const saved = await saveAnswerArticle(ctx, answer);
    expect(saved).toMatchObject({ ok: true, value: { slug: `ticket-${key.toLowerCase()}`, outcome: 'created' } });
    expect(await saveAnswerArticle(ctx, answer)).toMatchObject({ ok: true, value: { outcome: 'unchanged' } });
    expect((await searchKnowledgeBase(ctx, '换手机 验证码', { lang: 'zh-CN', category: 'no-code' })).map((h) => h.slug)).toContain(`ticket-${key.toLowerCase()}`);
    if (!saved.ok) return;
    expect(await articleForReply(ctx, saved.value.articleId)).toEqual({ id: saved.value.articleId, title: answer.title, body: answer.body, lang: 'zh-CN' });
  });
});
