import { randomBytes } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Config } from '../config/model';
import { categoryScope } from '../domain/kb-search';
import { LOCALES } from '../domain/types';
import type { Db } from '../storage/database';
import { retireArticle, saveArticle, searchArticles, type ArticleInput, type SaveOutcome, type SearchHit } from '../storage/repos/kb';
import type { CategoryNode } from '../config/schema';
import { fail, ok, type Result } from '../domain/errors';
import { findTicket } from '../storage/repos/tickets';
import type { AppContext } from './context';
import { rolesFor } from './support';

/** Knowledge-base use cases (issue 18): import articles from Markdown files and search them. */

const SLUG = /^[a-z0-9][a-z0-9_-]*$/;

const frontMatterSchema = z
  .object({
    title: z.string().trim().min(1).max(200),
    category: z.string().optional(),
    lang: z.enum(LOCALES),
    tags: z.union([z.array(z.coerce.string()), z.string().transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))]).optional(),
    owner: z.string().optional(),
  })
  .strict();

export interface ArticleFile {
  /** The file name without ".md"; becomes the slug. */
  slug: string;
  text: string;
}

export type ParsedArticle = { ok: true; article: ArticleInput } | { ok: false; problems: string[] };

/** Reads a Markdown file with YAML front matter (between `---` lines) and checks it against the config. */
export function parseArticleFile(file: ArticleFile, config: Pick<Config, 'categories'>): ParsedArticle {
  const problems: string[] = [];
  if (!SLUG.test(file.slug)) problems.push(`slug "${file.slug}" must be lower-case letters, digits, - and _ (it is the file name)`);
  const m = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---\r?\n?([\s\S]*)$/.exec(file.text);
  if (!m) return { ok: false, problems: [...problems, 'no front matter (the file must start with a --- block holding title, category, lang, tags)'] };
  let raw: unknown;
  try {
    raw = parseYaml(m[1]!);
  } catch (err) {
    return { ok: false, problems: [...problems, `front matter is not YAML: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const parsed = frontMatterSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join('.') || 'front matter'}: ${issue.message}`);
    return { ok: false, problems };
  }
  const fm = parsed.data;
  if (fm.category !== undefined && !config.categories.has(fm.category)) problems.push(`category: unknown category "${fm.category}"`);
  const body = m[2]!.trim();
  if (body.length === 0) problems.push('the article has no body');
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    article: { slug: file.slug, title: fm.title, body, categoryId: fm.category ?? null, lang: fm.lang, tags: fm.tags ?? [], ownerId: fm.owner ?? null },
  };
}

export interface ImportResult {
  slug: string;
  outcome?: SaveOutcome;
  problems?: string[];
}

/** Imports files one by one, each in its own transaction (article, tokens and audit row together). */
export async function importArticles(
  deps: { db: Db; config: Pick<Config, 'categories'>; now: Date; actorId: string },
  files: readonly ArticleFile[],
): Promise<ImportResult[]> {
  const results: ImportResult[] = [];
  for (const file of files) {
    const parsed = parseArticleFile(file, deps.config);
    if (!parsed.ok) {
      results.push({ slug: file.slug, problems: parsed.problems });
      continue;
    }
    const { outcome } = await deps.db.transaction().execute((tx) => saveArticle(tx, parsed.article, deps.actorId, deps.now.toISOString()));
    results.push({ slug: file.slug, outcome });
  }
  return results;
}

export interface KbSearchOptions {
  lang?: string | undefined;
  /** A category id: only articles of its subtree, its branches above, and uncategorised ones. */
  category?: string | undefined;
  limit?: number | undefined;
}

export async function searchKnowledgeBase(deps: { db: Db; config: Pick<Config, 'raw'> }, query: string, options: KbSearchOptions = {}): Promise<SearchHit[]> {
  let categories: string[] | undefined;
  if (options.category !== undefined) {
    categories = categoryScope(deps.config.raw.categories, options.category);
    if (!categories) throw new Error(`unknown category "${options.category}"`);
  }
  return searchArticles(deps.db, query, { lang: options.lang, categories, limit: options.limit });
}

/** The categories an editor may file articles under: admins every one; supervisors those of their departments. */
export function editableCategories(config: Pick<Config, 'categories' | 'leaves' | 'raw'>, departments: readonly string[] | '*'): Set<string> {
  const out = new Set<string>();
  const walk = (nodes: readonly CategoryNode[], dept: string | undefined) => {
    for (const n of nodes) {
      const d = n.department ?? dept;
      // A branch is editable when every leaf under it belongs to the editor's departments.
      const leaves = categoryScope(config.raw.categories, n.id)!.filter((id) => config.leaves.has(id));
      if (departments === '*' || leaves.every((id) => departments.includes(config.leaves.get(id)!.department))) out.add(n.id);
      walk(n.children ?? [], d);
    }
  };
  walk(config.raw.categories, undefined);
  return out;
}

export interface ArticleEdit {
  title: string;
  body: string;
  tags: string[];
  categoryId: string | null;
  lang: string;
}

export type EditOutcome = { ok: true; outcome: SaveOutcome } | { ok: false; problem: 'not_found' | 'not_allowed' | 'invalid'; detail?: string };

/**
 * Edits an article from the dashboard (issue 18): the editor must be allowed both the article's
 * category and the new one (uncategorised articles: admins only); audited as kb_updated.
 */
export async function editArticle(
  deps: { db: Db; config: Pick<Config, 'categories' | 'leaves' | 'raw'>; now: Date },
  editor: { userId: string; departments: readonly string[] | '*' },
  id: string,
  edit: ArticleEdit,
): Promise<EditOutcome> {
  const may = mayFile(deps.config, editor);
  const checked = checkEdit(deps.config, edit);
  if (!checked.ok) return checked;
  const { title, body, tags } = checked;
  return deps.db.transaction().execute(async (tx) => {
    const existing = await tx.selectFrom('kb_articles').selectAll().where('id', '=', id).executeTakeFirst();
    if (!existing) return { ok: false, problem: 'not_found' } as const;
    if (!may(existing.category_id) || !may(edit.categoryId)) return { ok: false, problem: 'not_allowed' } as const;
    const { outcome } = await saveArticle(tx, { slug: existing.slug, title, body, categoryId: edit.categoryId, lang: edit.lang, tags, ownerId: existing.owner_id }, editor.userId, deps.now.toISOString());
    return { ok: true, outcome } as const;
  });
}

/** Whether an editor may file an article under a category (uncategorised: admins only). */
function mayFile(config: Pick<Config, 'categories' | 'leaves' | 'raw'>, editor: { departments: readonly string[] | '*' }): (cat: string | null) => boolean {
  const allowed = editableCategories(config, editor.departments);
  return (cat) => (cat === null ? editor.departments === '*' : allowed.has(cat));
}

/** The checks of an article written on the dashboard, the same for a new one and an edit. */
function checkEdit(config: Pick<Config, 'categories'>, edit: ArticleEdit): { ok: true; title: string; body: string; tags: string[] } | { ok: false; problem: 'invalid'; detail: string } {
  const title = edit.title.trim();
  const body = edit.body.trim();
  if (!title || title.length > 200) return { ok: false, problem: 'invalid', detail: 'title' };
  if (!body) return { ok: false, problem: 'invalid', detail: 'body' };
  if (!(LOCALES as readonly string[]).includes(edit.lang)) return { ok: false, problem: 'invalid', detail: 'lang' };
  if (edit.categoryId !== null && !config.categories.has(edit.categoryId)) return { ok: false, problem: 'invalid', detail: 'category' };
  const tags = [...new Set(edit.tags.map((t) => t.trim()).filter(Boolean))].slice(0, 20);
  return { ok: true, title, body, tags };
}

/**
 * A new article from the dashboard: the same checks and permission as an edit, the editor as its
 * owner; audited as kb_created. The slug (its name in links and `kb import`) is optional: without
 * one it is `kb-` and random hex; a slug in use is refused (importing by that name would overwrite).
 */
export async function createArticle(
  deps: { db: Db; config: Pick<Config, 'categories' | 'leaves' | 'raw'>; now: Date },
  editor: { userId: string; departments: readonly string[] | '*' },
  edit: ArticleEdit & { slug?: string | undefined },
): Promise<{ ok: true; id: string; slug: string } | { ok: false; problem: 'not_allowed' | 'invalid'; detail?: string }> {
  const checked = checkEdit(deps.config, edit);
  if (!checked.ok) return checked;
  const given = (edit.slug ?? '').trim().toLowerCase();
  if (given !== '' && (!SLUG.test(given) || given.length > 100)) return { ok: false, problem: 'invalid', detail: 'slug' };
  if (!mayFile(deps.config, editor)(edit.categoryId)) return { ok: false, problem: 'not_allowed' };
  const slug = given || `kb-${randomBytes(4).toString('hex')}`;
  return deps.db.transaction().execute(async (tx) => {
    if (await tx.selectFrom('kb_articles').select('id').where('slug', '=', slug).executeTakeFirst()) return { ok: false, problem: 'invalid', detail: 'slug' } as const;
    const { title, body, tags } = checked;
    const { id } = await saveArticle(tx, { slug, title, body, categoryId: edit.categoryId, lang: edit.lang, tags, ownerId: editor.userId }, editor.userId, deps.now.toISOString());
    return { ok: true, id, slug } as const;
  });
}

/** Retires an article from the dashboard (same permission as editing); audited as kb_retired. */
export async function retireKbArticle(deps: { db: Db; config: Pick<Config, 'categories' | 'leaves' | 'raw'>; now: Date }, editor: { userId: string; departments: readonly string[] | '*' }, id: string): Promise<EditOutcome> {
  const allowed = editableCategories(deps.config, editor.departments);
  return deps.db.transaction().execute(async (tx) => {
    const existing = await tx.selectFrom('kb_articles').select(['id', 'category_id']).where('id', '=', id).executeTakeFirst();
    if (!existing) return { ok: false, problem: 'not_found' } as const;
    if (existing.category_id === null ? editor.departments !== '*' : !allowed.has(existing.category_id)) return { ok: false, problem: 'not_allowed' } as const;
    const done = await retireArticle(tx, id, editor.userId, deps.now.toISOString());
    return { ok: true, outcome: done ? 'updated' : 'unchanged' } as const;
  });
}

export interface SaveAnswerCommand {
  actorId: string;
  /** The resolved (or closed) ticket the answer comes from: its key or id. */
  ticket: string;
  title: string;
  /** Prefilled from the resolution note, edited in the modal/form. */
  body: string;
  categoryId?: string | undefined;
  lang?: string | undefined;
  tags?: string[] | undefined;
}

/**
 * "Save as answer" on a resolved ticket's card (issue 18; the chat side is wired next): an article
 * made from the ticket, slug `ticket-<key>` (saving again updates it), filed under the ticket's
 * category and language unless given. Staff of the ticket's department, its supervisors and
 * admins may; audited in kb_audit like every article change.
 */
export async function saveAnswerArticle(ctx: AppContext, cmd: SaveAnswerCommand): Promise<Result<{ articleId: string; slug: string; outcome: SaveOutcome }>> {
  return ctx.db.transaction().execute(async (tx) => {
    const ticket = await findTicket(tx, cmd.ticket);
    if (!ticket) return fail('ticket.not_found', { key: cmd.ticket });
    const roles = await rolesFor(ctx, tx, cmd.actorId, ticket);
    if (!roles.has('member') && !roles.has('supervisor') && !roles.has('admin')) return fail('ticket.not_allowed', { key: ticket.key });
    if (ticket.state !== 'resolved' && ticket.state !== 'closed') return fail('ticket.not_resolved', { key: ticket.key });
    const title = cmd.title.trim();
    const body = cmd.body.trim();
    if (!title || title.length > 200) return fail('ticket.invalid_input', { field: 'title', problem: 'between 1 and 200 characters' });
    if (!body) return fail('ticket.invalid_input', { field: 'body', problem: 'empty' });
    const categoryId = cmd.categoryId ?? ticket.category_id;
    if (!ctx.config.categories.has(categoryId)) return fail('ticket.unknown_category', { category: categoryId });
    const lang = cmd.lang ?? ticket.locale;
    if (!(LOCALES as readonly string[]).includes(lang)) return fail('ticket.invalid_input', { field: 'lang', problem: lang });
    const slug = `ticket-${ticket.key.toLowerCase()}`;
    const { id, outcome } = await saveArticle(tx, { slug, title, body, categoryId, lang, tags: cmd.tags ?? [], ownerId: cmd.actorId }, cmd.actorId, ctx.time.now().toISOString());
    return ok({ articleId: id, slug, outcome });
  });
}
