import type { Config } from '../config/model';
import type { Locale } from '../domain/types';
import { findDepartment, parseStatsArgs, type StatsArgs } from './stats-args';

/**
 * The one parser of `/ticket` and `/工单` for every platform. The text is what follows the
 * command (Slack gives it apart; Feishu messages start with `/ticket` or `/工单`, stripped here).
 */
export const SUBCOMMANDS = ['new', 'mine', 'queue', 'show', 'stats', 'policy', 'dashboard', 'feedback', 'lang', 'help', 'kb', 'quiet', 'escalate'] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

/** Chinese names of the subcommands (`/工单 帮助`, `/工单 统计 30天`). */
const ALIASES: Record<string, Subcommand> = {
  新建: 'new',
  我的: 'mine',
  队列: 'queue',
  查看: 'show',
  统计: 'stats',
  规则: 'policy',
  看板: 'dashboard',
  反馈: 'feedback',
  语言: 'lang',
  帮助: 'help',
  知识: 'kb',
  免打扰: 'quiet',
  升级: 'escalate',
};

export type TicketCommand =
  | { kind: 'new' }
  | { kind: 'quick'; text: string }
  | { kind: 'help' }
  | { kind: 'unknown'; word: string }
  | { kind: 'mine' }
  | { kind: 'queue'; departmentText: string; departmentId: string | undefined }
  /** `--history` (or `历史`) asks for the ticket's history instead of its card (issue 17). */
  | { kind: 'show'; key: string; history: boolean }
  | ({ kind: 'stats' } & StatsArgs & { periodText: string | undefined })
  | { kind: 'policy' }
  | { kind: 'stats_help' }
  | { kind: 'dashboard' }
  | { kind: 'feedback'; text: string }
  | { kind: 'lang'; locale: Locale | undefined }
  | { kind: 'kb'; text: string }
  /** issue 17: `/ticket quiet 22:00-08:00` or `/ticket quiet off` (the range text as typed; the use case reads it). */
  | { kind: 'quiet'; range: string }
  /** issue 17: `/ticket escalate KEY <reason>` (`/工单 升级 KEY <原因>`). */
  | { kind: 'escalate'; key: string; reason: string };

const PREFIX_RE = /^\s*\/(ticket|工单)(?=\s|$)/i;

/** The text after `/ticket` or `/工单` when a message starts with one, else undefined. */
export function commandText(message: string): string | undefined {
  const m = PREFIX_RE.exec(message);
  return m ? message.slice(m[0].length).trim() : undefined;
}

export function parseLocale(word: string): Locale | undefined {
  const w = word.trim().toLowerCase();
  if (w.startsWith('zh') || w === '中文') return 'zh-CN';
  if (w.startsWith('en') || w === '英文' || w === 'english') return 'en';
  return undefined;
}

/**
 * `new|mine|queue [dept]|show KEY|stats [dept] [7d|30d|30天]|policy|dashboard|feedback <idea>|lang zh|en|kb <words>|help`.
 * Empty text opens the form; any other text raises a quick ticket, except a single unknown latin
 * word, which is taken as a mistyped subcommand and answered with the help.
 */
export function parseTicketCommand(config: Pick<Config, 'departments'>, text: string): TicketCommand {
  const body = (commandText(text) ?? text).trim();
  if (body === '') return { kind: 'new' };
  const words = body.split(/\s+/);
  const first = words[0]!;
  const sub = (SUBCOMMANDS as readonly string[]).includes(first.toLowerCase()) ? (first.toLowerCase() as Subcommand) : ALIASES[first];
  const rest = body.slice(first.length).trim();
  const args = rest === '' ? [] : rest.split(/\s+/);
  switch (sub) {
    case 'new':
      return rest === '' ? { kind: 'new' } : { kind: 'quick', text: rest };
    case 'help':
      return { kind: 'help' };
    case 'mine':
      return { kind: 'mine' };
    case 'queue':
      return { kind: 'queue', departmentText: rest, departmentId: rest ? findDepartment(config, rest) : undefined };
    case 'show': {
      const history = args.some((a) => HISTORY_FLAGS.includes(a.toLowerCase()));
      const key = args.find((a) => !HISTORY_FLAGS.includes(a.toLowerCase())) ?? '';
      return { kind: 'show', key: key.toUpperCase(), history };
    }
    case 'escalate':
      return { kind: 'escalate', key: (args[0] ?? '').toUpperCase(), reason: rest.slice((args[0] ?? '').length).trim() };
    case 'stats': {
      if (args.length === 1 && STATS_HELP_WORDS.includes(args[0]!.toLowerCase())) return { kind: 'stats_help' };
      const parsed = parseStatsArgs(config, args);
      return { kind: 'stats', ...parsed, periodText: args.find((w) => PERIOD_RE.test(w)) };
    }
    case 'policy':
      return { kind: 'policy' };
    case 'dashboard':
      return { kind: 'dashboard' };
    case 'feedback':
      return { kind: 'feedback', text: rest };
    case 'lang':
      return { kind: 'lang', locale: parseLocale(args[0] ?? '') };
    case 'quiet':
      return { kind: 'quiet', range: rest };
    case 'kb':
      return { kind: 'kb', text: rest };
    default:
      if (words.length === 1 && /^[a-z]+$/i.test(first)) return { kind: 'unknown', word: first };
      return { kind: 'quick', text: body };
  }
}

/** `/ticket stats help`: what each figure means (issue 17 item 7). */
const STATS_HELP_WORDS = ['help', '?', '？', '--help', '帮助', '说明', '定义'];

const HISTORY_FLAGS = ['--history', '-history', '历史', '--历史'];

const PERIOD_RE = /^(\d{1,4})\s*(?:d|天)$/i;

/** The days a period word asks for, uncapped (`400d` → 400), so the core can refuse it plainly. */
export function periodDays(word: string | undefined): number | undefined {
  const m = word ? PERIOD_RE.exec(word) : null;
  return m ? Number(m[1]) : undefined;
}
