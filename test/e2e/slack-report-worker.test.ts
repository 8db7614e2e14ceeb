import { join } from 'node:path';
import pino from 'pino';
import { ReportWorkerPool } from '../../src/reports/pool';
import type { Storage, StorageOptions } from '../../src/storage/database';
import { SlackHarness } from '../fakes/slack-harness';
import { sharedStorageVariants } from '../support/storage';

/**
 * Issue 16 through Slack: `/ticket stats` answered by a report worker (real signed requests to the
 * bot, the worker's own connection), and a report over the time limit answered with the localised
 * "took too long, try a shorter period" instead of figures.
 */
const variants = sharedStorageVariants('slack-report-worker-');

describe.each(variants)('/ticket stats through a report worker on $name', (variant) => {
  let h: SlackHarness;
  let options: StorageOptions;
  let cleanup: () => void;

  beforeAll(async () => {
    const opened = await variant.open();
    options = opened.options;
    cleanup = opened.cleanup;
    h = await SlackHarness.start({ storage: opened.storage });
  });
  afterAll(async () => {
    await h.ctx.reports?.close();
    await h.stop();
    cleanup();
  });

  const pool = (timeoutMs: number) => new ReportWorkerPool({ storage: options, config: h.ctx.config.raw, timeoutMs, logger: pino({ level: 'silent' }) });

  it('answers with the figures computed in the worker', async () => {
    const workers = pool(60_000);
    h.ctx.reports = workers;
    await workers.ready();
    const { responseId } = await h.command('UADMIN', 'stats 30d');
    const said = h.responseTexts(responseId).join('\n');
    expect(said).toMatch(/all departments/);
    expect(workers.stats.done).toBe(1);
    await workers.close();
  });

  it('says "took too long, try a shorter period" in the asker\'s language when the report is cancelled', async () => {
    // 1 ms: no report answers that fast (a message each way and the queries), so it is always cancelled.
    const workers = pool(1);
    h.ctx.reports = workers;
    await workers.ready();
    const en = await h.command('UADMIN', 'stats 30d');
    expect(h.responseTexts(en.responseId).join('\n')).toContain('That report took too long and was stopped. Try a shorter period');
    await h.command('UADMIN', 'lang zh');
    const again = await h.command('UADMIN', 'stats 30d');
    expect(h.responseTexts(again.responseId).join('\n')).toContain('这份统计耗时过长');
    expect(workers.stats.timedOut).toBe(2);
  });
});
