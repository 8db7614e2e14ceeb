import type { CategoryNode } from '../config/schema';

/**
 * Search tokens for the knowledge base, the same for articles and queries, for Chinese and English.
 *
 * - Han text: every character bigram of each run of Han characters, plus the words of
 *   `Intl.Segmenter('zh', { granularity: 'word' })` that are two characters or longer. ICU splits
 *   "收不到验证码" as 收|不到|验证|码 but "验证码收不到怎么办" as 验证|码|收|不到|怎么|办: the words
 *   alone miss matches that the bigrams (收不, 不到, 验证, 证码) find. A run of one character
 *   keeps that character.
 * - Other scripts: the segmenter's word-like segments, NFKC-folded and lower-cased, a few English
 *   stop words dropped, and a light plural/-ing/-ed strip ("passwords" → "password").
 */
const HAN = /\p{Script=Han}/u;
const HAN_RUN = /\p{Script=Han}+/gu;

const STOP = new Set([
  'a', 'an', 'the', 'and', 'or', 'of', 'to', 'in', 'on', 'for', 'is', 'are', 'be', 'my', 'i', 'it', 'can', 'do', 'does', 'how', 'what',
  'with', 'not', 'at', 'me', 'you', 'your', 'we', 'our', 'this', 'that', 'from', 'by', 'as', 'get', 'why',
  '的', '了', '吗', '呢', '吧', '啊',
]);

const segmenter = new Intl.Segmenter('zh', { granularity: 'word' });

/** "resett" → "reset", "stopp" → "stop"; "install", "press" stay. */
function undouble(word: string): string {
  return /([b-df-hj-km-np-rtv-z])\1$/.test(word) && !/(ll|ss|zz)$/.test(word) ? word.slice(0, -1) : word;
}

function stem(word: string): string {
  if (word.length <= 3 || /\d/.test(word)) return word;
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (word.endsWith('ing') && word.length > 5) return undouble(word.slice(0, -3));
  if (word.endsWith('ed') && word.length > 4) return undouble(word.slice(0, -2));
  if (word.endsWith('es') && /(ss|sh|ch|x)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** Tokens of a text with how often each occurs. */
export function tokenCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (t: string) => {
    if (t.length === 0 || t.length > 64 || STOP.has(t)) return;
    counts.set(t, (counts.get(t) ?? 0) + 1);
  };
  const folded = text.normalize('NFKC').toLowerCase();
  for (const run of folded.match(HAN_RUN) ?? []) {
    const chars = [...run];
    if (chars.length === 1) add(chars[0]!);
    for (let i = 0; i + 1 < chars.length; i++) add(chars[i]! + chars[i + 1]!);
  }
  for (const seg of segmenter.segment(folded)) {
    if (!seg.isWordLike) continue;
    const word = seg.segment;
    if (HAN.test(word)) {
      if ([...word].length > 2) add(word); // two-character words are already bigrams
    } else add(stem(word));
  }
  return counts;
}

/** The distinct tokens of a query, in order of first occurrence. */
export function queryTokens(text: string): string[] {
  return [...tokenCounts(text).keys()];
}

/** How much a token in the title counts against one in the body or tags. */
export const TITLE_WEIGHT = 3;
export const TAG_WEIGHT = 2;

/** Weighted tokens of an article: title ×3, tags ×2, body ×1 (counts capped so a long body cannot dominate). */
export function articleTokens(article: { title: string; body: string; tags: readonly string[] }): Map<string, number> {
  const weights = new Map<string, number>();
  const addAll = (counts: Map<string, number>, factor: number) => {
    for (const [t, n] of counts) weights.set(t, (weights.get(t) ?? 0) + Math.min(n, 5) * factor);
  };
  addAll(tokenCounts(article.title), TITLE_WEIGHT);
  addAll(tokenCounts(article.tags.join(' ')), TAG_WEIGHT);
  addAll(tokenCounts(article.body), 1);
  return weights;
}

/**
 * The categories an article may have to be shown for category `id`: the node itself, everything
 * under it, and the branches above it (an article filed on "IT" answers questions about "IT › VPN").
 * Undefined when the id is unknown.
 */
export function categoryScope(roots: readonly CategoryNode[], id: string): string[] | undefined {
  const find = (nodes: readonly CategoryNode[], path: CategoryNode[]): CategoryNode[] | undefined => {
    for (const node of nodes) {
      if (node.id === id) return [...path, node];
      const below = find(node.children ?? [], [...path, node]);
      if (below) return below;
    }
    return undefined;
  };
  const path = find(roots, []);
  if (!path) return undefined;
  const ids = path.map((n) => n.id);
  const walk = (node: CategoryNode) => {
    for (const child of node.children ?? []) {
      ids.push(child.id);
      walk(child);
    }
  };
  walk(path[path.length - 1]!);
  return ids;
}
