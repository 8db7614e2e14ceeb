import { Command } from 'commander';
import { parseDuration } from '../domain/duration';
import { readEnv } from '../config/env';
import { loadConfigFile } from '../config/load';
import { locateConfig } from '../config/locate';
import { signIntakeQuery } from '../web/intake/links';
import { action, configureCommand, EXIT_OK, UsageError } from './common';

/** `ticketbot integrations link`: a signed web-form link (a 报修 button's target) for an integration. */
export function registerIntegrationsCommands(program: Command): void {
  const integrations = configureCommand(program.command('integrations').description('intake integrations (API clients, web form)'));
  configureCommand(
    integrations
      .command('link')
      .description('print a signed link to the web form of an integration; --prefill values become the ticket fields and cannot be edited (signed with TICKETBOT_SECRET)')
      .requiredOption('--integration <id>', 'an integration id from the config (integrations[].id)')
      .option('--prefill <field=value>', 'context to carry, e.g. user=u-42, device="iPhone 15", app_version=5.2.1, page_url=…, order_id=… (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
      .option('--expires <duration>', 'how long the link works, e.g. 30d, 12h', '365d')
      .option('--lang <lang>', 'zh-CN or en (default: the reader\'s browser language)')
      .option('--base-url <url>', 'public base URL (default: TICKETBOT_PUBLIC_URL)')
      .option('--config <file>', 'config file (default: TICKETBOT_CONFIG or ./config/ticketbot.yaml)'),
  ).action(
    action((opts: { integration: string; prefill: string[]; expires: string; lang?: string; baseUrl?: string; config?: string }) => {
      const config = loadConfigFile(opts.config ?? locateConfig().path);
      const known = config.raw.integrations.map((i) => i.id);
      if (!known.includes(opts.integration)) throw new UsageError(`unknown integration "${opts.integration}" (configured: ${known.join(', ') || 'none'})`);
      const env = readEnv();
      if (!env.TICKETBOT_SECRET) throw new UsageError('TICKETBOT_SECRET is not set: the link would not verify on the server');
      const base = opts.baseUrl ?? env.TICKETBOT_PUBLIC_URL;
      if (!base || !/^https?:\/\//.test(base)) throw new UsageError('give --base-url or set TICKETBOT_PUBLIC_URL (http(s)://…)');
      const ttl = parseDuration(opts.expires);
      if (ttl === undefined || ttl <= 0) throw new UsageError(`--expires: not a duration: "${opts.expires}"`);
      if (opts.lang !== undefined && opts.lang !== 'en' && opts.lang !== 'zh-CN') throw new UsageError('--lang is zh-CN or en');
      const prefill: Record<string, string> = {};
      for (const p of opts.prefill) {
        const eq = p.indexOf('=');
        const k = p.slice(0, eq);
        if (eq <= 0 || !/^[a-z0-9_]{1,40}$/.test(k)) throw new UsageError(`--prefill "${p}": expected field=value with a lower-case field name`);
        prefill[k] = p.slice(eq + 1);
      }
      const query = signIntakeQuery({ integration: opts.integration, prefill, expiresAt: Date.now() + ttl }, env.TICKETBOT_SECRET);
      console.log(`${base.replace(/\/+$/, '')}/new?${query}${opts.lang ? `&lang=${opts.lang}` : ''}`);
      return EXIT_OK;
    }),
  );
}
