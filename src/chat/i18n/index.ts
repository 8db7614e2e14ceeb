import type { Locale } from '../../domain/types';
import { en, type MessageKey } from './en';
import { zhCN } from './zh-CN';

export type { MessageKey };
export const catalogs: Record<Locale, Record<MessageKey, string>> = { en, 'zh-CN': zhCN };

/** Looks up a message and fills `{name}` placeholders; unknown placeholders are left visible. */
export function t(locale: Locale, key: MessageKey, params: Record<string, string | number | undefined> = {}): string {
  const template = catalogs[locale][key] ?? en[key];
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = params[name];
    return v === undefined ? whole : String(v);
  });
}

export function isMessageKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(en, key);
}

/** Maps a platform locale ("zh-CN", "zh_CN", "en-US", "ja-JP") to one we speak. */
export function toLocale(raw: string | null | undefined, fallback: Locale): Locale {
  if (!raw) return fallback;
  const lower = raw.toLowerCase().replace('_', '-');
  if (lower.startsWith('zh')) return 'zh-CN';
  if (lower.startsWith('en')) return 'en';
  return fallback;
}
