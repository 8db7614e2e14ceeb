import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dropSchema, migrate, openStorage, type Storage } from '../src/storage/database';
import { saveArticle, searchArticles, type ArticleInput, type SearchOptions } from '../src/storage/repos/kb';
import { percentile, peakRssMiB, type Benchmark } from './harness';

/**
 * Knowledge-base search over 10,000 articles (half Chinese, half English, built from a fixed
 * vocabulary so common words recur the way they do in real help articles): p50/p95/max of one
 * search, with and without the language and category filters, on SQLite and PostgreSQL.
 */

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// Real words first (the frequent end), then generated ones: 6,000 words per language, drawn with a
// Zipf-like (log-uniform) distribution, so a few words are in most articles and most words are rare,
// as in real help articles.
const ZH_SEED = (
  '问题 怎么办 如何 无法 登录 验证码 收不到 密码 重置 账号 手机 短信 打印机 离线 网络 连接 退款 到账 订单 发票 ' +
  '报销 审批 流程 邮箱 设置 权限 申请 系统 升级 版本 安装 电脑 蓝屏 会议室 预订 投影仪 无线 信号 工资 社保 请假'
).split(' ');
const EN_SEED = (
  'how error unable login password reset account phone code verification printer offline network refund order invoice ' +
  'expense approval email settings permission request system upgrade version install laptop crash meeting room vpn'
).split(' ');
const HAN_CHARS = '的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严'
const EN_SYLL = 'ba be bi bo bu ca ce ci co da de di do fa fe fi fo ga ge gi go ha he hi ho ka ke ki ko la le li lo ma me mi mo na ne ni no pa pe pi po ra re ri ro sa se si so ta te ti to va ve vi vo za ze zi zo'.split(' ');

function vocabulary(seed: string[], make: (rand: () => number) => string, size: number): string[] {
  const rand = lcg(size + seed.length);
  const words = [...seed];
  const seen = new Set(words);
  while (words.length < size) {
    const w = make(rand);
    if (!seen.has(w)) {
      seen.add(w);
      words.push(w);
    }
  }
  return words;
}

const pick = (rand: () => number, s: string) => s[Math.floor(rand() * s.length)]!;
const ZH = vocabulary(ZH_SEED, (r) => pick(r, HAN_CHARS) + pick(r, HAN_CHARS) + (r() < 0.3 ? pick(r, HAN_CHARS) : ''), 6000);
const EN = vocabulary(EN_SEED, (r) => Array.from({ length: 2 + Math.floor(r() * 2) }, () => EN_SYLL[Math.floor(r() * EN_SYLL.length)]!).join('') + (r() < 0.5 ? 'n' : 'r'), 6000);

function words(rand: () => number, vocab: string[], n: number): string[] {
  // log-uniform index: P(i) ∝ 1/(i+1), a Zipf distribution
  return Array.from({ length: n }, () => vocab[Math.min(vocab.length - 1, Math.floor(Math.exp(rand() * Math.log(vocab.length + 1))) - 1)]!);
}

const CATEGORIES = ['fault', 'login', 'no-code', 'refund', 'refund-request', 'how-to', null];

function article(i: number, rand: () => number): ArticleInput {
  const zh = i % 2 === 0;
  const vocab = zh ? ZH : EN;
  const sep = zh ? '' : ' ';
  const title = words(rand, vocab, 3 + Math.floor(rand() * 4)).join(sep);
  const body = Array.from({ length: 4 + Math.floor(rand() * 6) }, () => words(rand, vocab, 8 + Math.floor(rand() * 10)).join(sep)).join(zh ? '。' : '. ');
  return { slug: `a-${i}`, title, body, categoryId: CATEGORIES[i % CATEGORIES.length]!, lang: zh ? 'zh-CN' : 'en', tags: words(rand, vocab, 2), ownerId: null };
}

async function load(storage: Storage, count: number): Promise<void> {
  const rand = lcg(18);
  const now = '2026-03-01T00:00:00.000Z';
  for (let i = 0; i < count; i += 250) {
    await storage.db.transaction().execute(async (tx) => {
      for (let j = i; j < Math.min(count, i + 250); j++) await saveArticle(tx, article(j, rand), 'bench', now);
    });
  }
}

interface Case {
  what: string;
  queries: string[];
  options: SearchOptions;
}

function cases(): Case[] {
  const rand = lcg(7);
  const zh = Array.from({ length: 100 }, () => words(rand, ZH, 2 + Math.floor(rand() * 3)).join(''));
  const en = Array.from({ length: 100 }, () => words(rand, EN, 2 + Math.floor(rand() * 3)).join(' '));
  return [
    { what: 'Chinese, 2–4 words, lang zh-CN', queries: zh, options: { lang: 'zh-CN' } },
    { what: 'English, 2–4 words, lang en', queries: en, options: { lang: 'en' } },
    { what: 'mixed, no filter', queries: [...zh.slice(0, 50), ...en.slice(0, 50)], options: {} },
    { what: 'Chinese, category subtree (fault›login›no-code + above)', queries: zh, options: { lang: 'zh-CN', categories: ['fault', 'login', 'no-code'] } },
    { what: 'long Chinese sentence (12 words)', queries: Array.from({ length: 50 }, () => words(rand, ZH, 12).join('')), options: { lang: 'zh-CN' } },
  ];
}

async function measure(label: string, storage: Storage): Promise<string[]> {
  const rows: string[] = [];
  for (const c of cases()) {
    for (const q of c.queries.slice(0, 10)) await searchArticles(storage.db, q, c.options); // warm-up
    const times: number[] = [];
    let hits = 0;
    for (const q of c.queries) {
      const t0 = performance.now();
      hits += (await searchArticles(storage.db, q, { ...c.options, limit: 10 })).length;
      times.push(performance.now() - t0);
    }
    times.sort((a, b) => a - b);
    rows.push(`| ${label} | ${c.what} | ${c.queries.length} | ${percentile(times, 50).toFixed(1)} | ${percentile(times, 95).toFixed(1)} | ${times[times.length - 1]!.toFixed(1)} | ${(hits / c.queries.length).toFixed(1)} |`);
  }
  return rows;
}

export const kbSearchBenchmark: Benchmark = {
  name: 'kb-search',
  async run({ quick }) {
    const count = quick ? 2_000 : 10_000;
    const lines = [
      `### Knowledge-base search (${count.toLocaleString('en')} articles, half zh-CN, half en)`,
      '',
      'One `searchArticles` call (two indexed queries + titles), ms. Tokens: Intl.Segmenter words + Han bigrams in `kb_tokens`.',
      '',
      '| database | queries | n | p50 ms | p95 ms | max ms | hits/query |',
      '|---|---|---|---|---|---|---|',
    ];
    const dir = mkdtempSync(join(tmpdir(), 'kb-bench-'));
    try {
      const storage = await openStorage({ sqliteFile: join(dir, 'bench.db') });
      try {
        await migrate(storage.db);
        const t0 = performance.now();
        await load(storage, count);
        const tokens = await storage.db.selectFrom('kb_tokens').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
        console.error(`sqlite: loaded ${count} articles (${tokens.n} token rows) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        lines.push(...(await measure('SQLite', storage)));
        lines.push('', `SQLite: ${Number(tokens.n).toLocaleString('en')} token rows, load ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
      } finally {
        await storage.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const url = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';
    if (url !== 'off') {
      const schema = `bench_${randomBytes(4).toString('hex')}`;
      const storage = await openStorage({ databaseUrl: url, pgSchema: schema, poolSize: 4 });
      try {
        await migrate(storage.db);
        const t0 = performance.now();
        await load(storage, count);
        console.error(`postgres: loaded ${count} articles in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        const rows = await measure('PostgreSQL', storage);
        const at = lines.findIndex((l) => l.startsWith('SQLite: '));
        lines.splice(at - 1, 0, ...rows);
      } finally {
        await dropSchema(storage.db, schema);
        await storage.close();
      }
    } else {
      lines.push('', 'PostgreSQL skipped (BENCH_DATABASE_URL=off).');
    }
    lines.push('', `Peak RSS ${peakRssMiB().toFixed(0)} MiB.`);
    return lines.join('\n');
  },
};
