import type { Locale } from '../domain/types';
import { t, type MessageKey } from './i18n';

/**
 * A clock's stored explanation line (written in English by src/domain/clock.ts, e.g.
 * `due 2026-02-16T01:00:00.000Z: 4h business in cn-office; lunch 12:00–13:00 excluded;
 * 2026-02-14 make-up workday (春节)`) in the reader's language, with its instants in the reader's
 * zone. The domain keeps one plain log format (it is also the CLI's and the tests' oracle); the
 * words are chosen here, where every other user-facing text is. A line or part this does not know
 * is shown as stored rather than dropped.
 */
export function clockWhyText(line: string, locale: Locale, at: (iso: string) => string): string {
  const amount = (text: string) => durationWords(text, locale);
  const heads: [RegExp, (m: RegExpExecArray) => string][] = [
    [/^retargeted (\S+) to (\S+) \((.*)\); (\S+) already used$/, (m) => t(locale, 'clockwhy.retargeted', { at: at(m[1]!), target: amount(m[2]!), reason: m[3]!, used: amount(m[4]!) })],
    [/^due (\S+): target of (\S+) already used up$/, (m) => t(locale, 'clockwhy.used_up', { due: at(m[1]!), target: amount(m[2]!) })],
    [/^due (\S+): (\S+) business in (\S+)$/, (m) => t(locale, 'clockwhy.due_business', { due: at(m[1]!), amount: amount(m[2]!), calendar: m[3]! })],
    [/^due (\S+): (\S+) wall-clock time$/, (m) => t(locale, 'clockwhy.due_wall', { due: at(m[1]!), amount: amount(m[2]!) })],
    [/^started (\S+)(?: \((.*?)\))?(?: by policy (\S+))?$/, (m) => t(locale, m[3] ? 'clockwhy.started_policy' : 'clockwhy.started', { at: at(m[1]!), policy: m[3] ?? '' }) + (m[2] ? ` (${m[2]})` : '')],
    [/^resumed (\S+)$/, (m) => t(locale, 'clockwhy.resumed', { at: at(m[1]!) })],
    [/^paused (\S+) with (\S+) of (\S+) used$/, (m) => t(locale, 'clockwhy.paused', { at: at(m[1]!), used: amount(m[2]!), target: amount(m[3]!) })],
    [/^met (\S+) after (\S+) \((late|on time)\)$/, (m) => t(locale, m[3] === 'late' ? 'clockwhy.met_late' : 'clockwhy.met', { at: at(m[1]!), used: amount(m[2]!) })],
    [/^stopped (\S+)(?: \((.*)\))?$/, (m) => t(locale, 'clockwhy.stopped', { at: at(m[1]!) }) + (m[2] ? ` (${m[2]})` : '')],
    [/^breached (\S+)$/, (m) => t(locale, 'clockwhy.breached', { at: at(m[1]!) })],
  ];
  for (const [re, words] of heads) {
    const m = re.exec(line);
    if (m) return words(m);
  }
  const [head = '', ...notes] = line.split('; ');
  for (const [re, words] of heads) {
    const m = re.exec(head);
    if (m) return [words(m), ...notes.map((n) => noteText(n, locale))].join(locale === 'en' ? '; ' : ';');
  }
  return line;
}

const NOTES: [RegExp, MessageKey, (m: RegExpExecArray) => Record<string, string>][] = [
  [/^(lunch|break) (\d\d:\d\d)–(\d\d:\d\d) excluded$/, 'clockwhy.note.break', (m) => ({ from: m[2]!, to: m[3]! })],
  [/^(\S+) holiday skipped(?: \((.*)\))?$/, 'clockwhy.note.holiday', (m) => ({ days: m[1]!, name: m[2] ? ` (${m[2]})` : '' })],
  [/^(\S+) make-up workday(?: \((.*)\))?$/, 'clockwhy.note.makeup', (m) => ({ day: m[1]!, name: m[2] ? ` (${m[2]})` : '' })],
];

function noteText(note: string, locale: Locale): string {
  for (const [re, key, params] of NOTES) {
    const m = re.exec(note);
    if (m) return t(locale, key, params(m));
  }
  return note;
}

/** `4h30m` (formatHours) → "4 h 30 min" / "4 小时 30 分钟"; anything else as it is. */
function durationWords(text: string, locale: Locale): string {
  const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(text);
  if (!m || text === '') return text;
  if (text === '0h') return t(locale, 'clockwhy.unit.minutes', { n: '0' });
  const parts: string[] = [];
  if (m[1]) parts.push(t(locale, 'clockwhy.unit.hours', { n: m[1] }));
  if (m[2]) parts.push(t(locale, 'clockwhy.unit.minutes', { n: m[2] }));
  if (m[3]) parts.push(t(locale, 'clockwhy.unit.seconds', { n: m[3] }));
  return parts.join(' ');
}
