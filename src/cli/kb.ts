import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Command, Option } from 'commander';
import { importArticles, searchKnowledgeBase, type ArticleFile } from '../app/kb';
import { readEnv } from '../config/env';
import { loadConfigFile } from '../config/load';
import { locateConfig } from '../config/locate';
import { LOCALES } from '../domain/types';
import { migrate, openStorage, type Storage } from '../storage/database';
import { action, configureCommand, EXIT_OK, EXIT_PROBLEM, UsageError } from './common';

/** `ticketbot kb import DIR` and `ticketbot kb search "<words>"`: the knowledge base from the command line. */

async function withStorage<T>(fn: (storage: Storage) => Promise<T>): Promise<T> {
  const env = readEnv();
  const storage = await openStorage({ databaseUrl: env.DATABASE_URL, sqliteFile: env.TICKETBOT_DB_FILE });
  try {
    await migrate(storage.db);
    return await fn(storage);
  } finally {
    await storage.close();
  }
}

function readArticleDir(dir: string): ArticleFile[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new UsageError(`${dir} is not a directory`);
    names = readdirSync(dir);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read directory ${dir}`);
  }
  return names
    .filter((n) => n.toLowerCase().endsWith('.md'))
    .sort()
    .map((n) => ({ slug: basename(n).replace(/\.md$/i, ''), text: readFileSync(join(dir, n), 'utf8') }));
}

export function registerKbCommands(program: Command): void {
  const kb = configureCommand(program.command('kb').description('knowledge base: import Markdown articles, search them'));

  configureCommand(
    kb
      .command('import')
      .description('import a folder of Markdown files (front matter: title, category, lang, tags); the slug is the file name; re-importing is idempotent')
      .argument('<dir>', 'folder of *.md files')
      .option('--config <file>', 'config file (default: TICKETBOT_CONFIG or ./config/ticketbot.yaml)')
      .option('--actor <id>', 'who is recorded in the audit trail', 'cli'),
  ).action(
    action(async (dir: string, opts: { config?: string; actor: string }) => {
      const files = readArticleDir(dir);
      if (files.length === 0) throw new UsageError(`no .md files in ${dir}`);
      const config = loadConfigFile(opts.config ?? locateConfig().path);
      const results = await withStorage((s) => importArticles({ db: s.db, config, now: new Date(), actorId: opts.actor }, files));
      const count = { created: 0, updated: 0, unchanged: 0, failed: 0 };
      for (const r of results) {
        if (r.problems) {
          count.failed++;
          for (const p of r.problems) console.error(`${r.slug}.md: ${p}`);
        } else count[r.outcome!]++;
      }
      console.log(`${count.created} created, ${count.updated} updated, ${count.unchanged} unchanged, ${count.failed} failed`);
      return count.failed ? EXIT_PROBLEM : EXIT_OK;
    }),
  );

  configureCommand(
    kb
      .command('search')
      .description('print the best-matching article titles, ranked')
      .argument('<words...>', 'what to look for (Chinese or English)')
      .addOption(new Option('--lang <lang>', 'only articles in this language').choices([...LOCALES]))
      .option('--category <id>', "only articles of this category's subtree (and uncategorised ones)")
      .option('--limit <n>', 'how many', '10')
      .option('--config <file>', 'config file (needed for --category)'),
  ).action(
    action(async (words: string[], opts: { lang?: string; category?: string; limit: string; config?: string }) => {
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new UsageError('--limit must be a whole number from 1 to 100');
      const config = opts.category !== undefined ? loadConfigFile(opts.config ?? locateConfig().path) : undefined;
      if (config && opts.category !== undefined && !config.categories.has(opts.category)) throw new UsageError(`unknown category "${opts.category}"`);
      const hits = await withStorage((s) =>
        searchKnowledgeBase({ db: s.db, config: config ?? { raw: { categories: [] } as never } }, words.join(' '), { lang: opts.lang, category: opts.category, limit }),
      );
      if (hits.length === 0) {
        console.log('no matching articles');
        return EXIT_OK;
      }
      hits.forEach((h, i) => console.log(`${i + 1}. ${h.title}  [${h.slug}, ${h.lang}${h.categoryId ? `, ${h.categoryId}` : ''}]  ${h.score.toFixed(2)}`));
      return EXIT_OK;
    }),
  );
}
