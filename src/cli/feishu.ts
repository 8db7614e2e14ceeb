import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as lark from '@larksuiteoapi/node-sdk';
import { Command } from 'commander';
import pino from 'pino';
import { z } from 'zod';
import { readEnv, type Env } from '../config/env';
import { FeishuApi, resolveDomain, toApiError } from '../feishu/api';
import { action, configureCommand, EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, UsageError } from './common';

const scopesFile = z.object({ scopes: z.array(z.object({ name: z.string(), for: z.string(), optional: z.boolean().optional() })) });
const eventsFile = z.object({
  delivery: z.object({ default: z.string(), http_path: z.string() }),
  events: z.array(z.object({ type: z.string(), for: z.string() })),
  callbacks: z.array(z.object({ type: z.string(), for: z.string() })),
});
const menuFile = z.object({ items: z.array(z.object({ event_key: z.string(), name: z.record(z.string(), z.string()) })) });

export const DEFAULT_MANIFEST_DIR = join(__dirname, '..', '..', 'manifests', 'feishu');

export interface FeishuSetupOptions {
  env: Pick<Env, 'FEISHU_APP_ID' | 'FEISHU_APP_SECRET' | 'FEISHU_DOMAIN' | 'FEISHU_MODE'>;
  apply: boolean;
  manifestDir?: string;
  /** Overrides FEISHU_DOMAIN (tests). */
  domain?: string;
  print: (line: string) => void;
}

function readJson<T>(dir: string, file: string, schema: z.ZodType<T>): T {
  return schema.parse(JSON.parse(readFileSync(join(dir, file), 'utf8')));
}

/**
 * `ticketbot feishu setup`: what the manifest needs versus what the app has. Scopes are read (and
 * with --apply requested from the tenant admin) through the application API; events, the card
 * callback and the bot menu have no API, so they are printed as a checklist.
 * Exit 0: nothing required is missing (or it was applied); 1: something is missing; 2: usage.
 */
export async function feishuSetup(o: FeishuSetupOptions): Promise<number> {
  if (!o.env.FEISHU_APP_ID || !o.env.FEISHU_APP_SECRET) throw new UsageError('set FEISHU_APP_ID and FEISHU_APP_SECRET (developer console → Credentials & Basic Info)');
  const dir = o.manifestDir ?? DEFAULT_MANIFEST_DIR;
  const scopes = readJson(dir, 'scopes.json', scopesFile).scopes;
  const events = readJson(dir, 'events.json', eventsFile);
  const menu = readJson(dir, 'bot-menu.json', menuFile).items;
  const domain = resolveDomain(o.domain ?? o.env.FEISHU_DOMAIN);
  const api = new FeishuApi({ appId: o.env.FEISHU_APP_ID, appSecret: o.env.FEISHU_APP_SECRET, domain, logger: pino({ level: 'silent' }) });
  const consoleUrl = typeof domain === 'string' ? domain : domain === lark.Domain.Feishu ? 'https://open.feishu.cn/app' : 'https://open.larksuite.com/app';

  let granted: Set<string>;
  try {
    granted = new Set((await api.grantedScopes()).filter((s) => s.granted).map((s) => s.name));
  } catch (err) {
    o.print(`cannot read the app's scopes: ${toApiError(err).message}`);
    o.print('  (the app needs application:application:self_manage for this check; compare scopes.json by hand in the console)');
    return EXIT_PROBLEM;
  }
  const missingRequired = scopes.filter((s) => !s.optional && !granted.has(s.name));
  const missingOptional = scopes.filter((s) => s.optional && !granted.has(s.name));
  o.print(`Scopes (${scopes.length - missingRequired.length - missingOptional.length}/${scopes.length} granted):`);
  for (const s of scopes) o.print(`  ${granted.has(s.name) ? '✓' : s.optional ? '·' : '✗'} ${s.name}${s.optional ? ' (optional)' : ''} — ${s.for}`);

  o.print('');
  o.print(`Set in the console (${consoleUrl}) → Events & Callbacks; these cannot be applied through the API:`);
  const mode = o.env.FEISHU_MODE ?? 'ws';
  o.print(`  delivery: ${mode === 'http' ? `request URL https://<your host>${events.delivery.http_path} for events and callbacks` : 'long connection (使用长连接接收事件/回调)'}`);
  for (const e of events.events) o.print(`  event ${e.type} — ${e.for}`);
  for (const c of events.callbacks) o.print(`  callback ${c.type} — ${c.for}`);
  o.print('  bot menu (Features → Bot → Custom menu, "push event"):');
  for (const m of menu) o.print(`    ${m.event_key}: ${Object.values(m.name).join(' / ')}`);

  if (missingRequired.length === 0 && missingOptional.length === 0) {
    o.print('');
    o.print('All scopes are granted.');
    return EXIT_OK;
  }
  o.print('');
  if (!o.apply) {
    o.print(`${missingRequired.length} required and ${missingOptional.length} optional scope(s) missing. Add them to the app version, then run with --apply to ask the admin to grant them.`);
    return missingRequired.length ? EXIT_PROBLEM : EXIT_OK;
  }
  try {
    await api.applyScopes();
  } catch (err) {
    o.print(`applying scopes failed: ${toApiError(err).message}`);
    return EXIT_PROBLEM;
  }
  o.print(`Asked the tenant admin to grant ${missingRequired.length + missingOptional.length} scope(s); they take effect once approved.`);
  return EXIT_OK;
}

export function registerFeishuCommands(program: Command): void {
  const feishu = configureCommand(program.command('feishu').description('Feishu (Lark) app setup'));
  configureCommand(
    feishu
      .command('setup')
      .description('show what the Feishu app still needs (scopes, events, callback, bot menu); --apply requests missing scopes')
      .option('--apply', 'request the missing scopes from the tenant admin through the application API', false)
      .option('--manifests <dir>', 'directory with scopes.json, events.json, bot-menu.json', DEFAULT_MANIFEST_DIR),
  ).action(
    action(async (opts: { apply: boolean; manifests: string }) => {
      let env: Env;
      try {
        env = readEnv();
      } catch (err) {
        console.error(`error: ${err instanceof Error ? err.message : String(err)}`);
        return EXIT_USAGE;
      }
      return feishuSetup({ env, apply: opts.apply, manifestDir: opts.manifests, print: (l) => console.log(l) });
    }),
  );
}
