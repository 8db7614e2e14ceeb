import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { catalogs, t, toLocale } from '../../src/chat/i18n';
import { ERROR_CODES } from '../../src/domain/errors';

describe('i18n catalog', () => {
  it('has every key in both zh-CN and en, none empty', () => {
    const en = Object.keys(catalogs.en).sort();
    const zh = Object.keys(catalogs['zh-CN']).sort();
    expect(zh).toEqual(en);
    for (const locale of ['en', 'zh-CN'] as const) {
      for (const [key, text] of Object.entries(catalogs[locale])) expect([locale, key, text.trim().length > 0]).toEqual([locale, key, true]);
    }
  });

  it('uses the same placeholders in both languages', () => {
    const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const key of Object.keys(catalogs.en) as (keyof typeof catalogs.en)[]) {
      expect([key, placeholders(catalogs['zh-CN'][key])]).toEqual([key, placeholders(catalogs.en[key])]);
    }
  });

  it('has a message for every domain error code', () => {
    for (const code of ERROR_CODES) expect(Object.keys(catalogs.en)).toContain(`error.${code}`);
  });

  it('every message key used in src exists', () => {
    const used = new Set<string>();
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path);
        else if (name.endsWith('.ts')) for (const m of readFileSync(path, 'utf8').matchAll(/messageKey: '([\w.]+)'/g)) used.add(m[1]!);
      }
    };
    walk(join(__dirname, '..', '..', 'src'));
    expect(used.size).toBeGreaterThan(5);
    for (const key of used) expect(Object.keys(catalogs.en)).toContain(key);
  });

  it('fills placeholders and maps platform locales', () => {
    expect(t('en', 'event.ticket.claimed', { key: 'IT-1042', assignee: 'Alan' })).toBe('IT-1042 claimed by Alan.');
    expect(t('zh-CN', 'event.ticket.claimed', { key: 'IT-1042', assignee: 'Alan' })).toBe('IT-1042 已由 Alan 认领。');
    expect(toLocale('zh_CN', 'en')).toBe('zh-CN');
    expect(toLocale('en-US', 'zh-CN')).toBe('en');
    expect(toLocale('ja-JP', 'en')).toBe('en');
    expect(toLocale(undefined, 'zh-CN')).toBe('zh-CN');
  });
});
