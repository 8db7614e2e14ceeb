import { runCli as cli } from '../support/cli';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { createTicket, handOff, returnLeg } from '../../src/app';
import type { UseCaseResult } from '../../src/app/runner';
import { formatTicketHistory, loadTicketHistory } from '../../src/cli/show';
import { parseConfigText } from '../../src/config/load';
import { as, FIXTURE_CONFIG, ManualTime, seedUsers, testContext } from '../support/app';
import { openMigratedSqlite } from '../support/storage';

/** `ticketbot show KEY`: the history of a ticket from the database (issue 17 item 5, CLI part). */

function value<T>(r: UseCaseResult<T>): T {
  if (!r.ok) throw new Error(`expected ok, got ${r.error.code}`);
  return r.value;
}


describe('ticketbot show KEY', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ticketbot-show-'));
  const dbFile = join(dir, 'ticketbot.db');
  const configFile = join(dir, 'ticketbot.yaml');
  const raw = parse(readFileSync(FIXTURE_CONFIG, 'utf8')) as Record<string, unknown>;
  raw.rules = [{ id: 'outage-is-urgent', when: { text: 'outage' }, then: { priority: 'urgent' } }];
  writeFileSync(configFile, stringify(raw));
  const parsed = parseConfigText(stringify(raw));
  if (!parsed.ok) throw new Error('bad config');
  const config = parsed.config;

  beforeAll(async () => {
    const storage = await openMigratedSqlite(dbFile);
    try {
      const time = new ManualTime(new Date('2026-11-23T01:00:00.000Z'));
      const ctx = testContext(storage, time, config);
      const u = await seedUsers(ctx, [
        { platform: 'slack', id: 'UREQ', name: 'Rita' },
        { platform: 'slack', id: 'UIT1', name: 'Alan' },
        { platform: 'feishu', id: 'ou_f1', name: 'Fei' },
      ]);
      value(await createTicket(ctx, { meta: as(u.UREQ!), categoryId: 'no-code', title: 'VPN outage', description: '', fields: { account: 'a', device: 'b' } }));
      time.advance(5 * 60_000);
      value(await handOff(ctx, { meta: as(u.UIT1!), ticket: 'IT-1001', toDepartmentId: 'finance', reason: 'Refund needed' }));
      time.advance(5 * 60_000);
      value(await returnLeg(ctx, { meta: as(u.ou_f1!, undefined, 'feishu'), ticket: 'IT-1001', reason: 'wrong-department' }));
    } finally {
      await storage.close();
    }
  });

  it('formats who did what when, rule applications, handoffs and returns with reasons, and why each clock is due then', async () => {
    const storage = await openMigratedSqlite(dbFile);
    try {
      const history = (await loadTicketHistory(storage.db, 'IT-1001'))!;
      const text = formatTicketHistory(config, history).join('\n');
      expect(text).toContain('IT-1001  VPN outage');
      expect(text).toMatch(/2026-11-23T01:00:00.000Z {2}system +rule outage-is-urgent set priority = urgent/);
      expect(text).toMatch(/slack:UIT1 +handed_off.*Refund needed/);
      expect(text).toMatch(/feishu:ou_f1 +leg_returned.*wrong-department/);
      expect(text).toMatch(/first_response +running +due 2026-11-23T01:15:00.000Z +policy urgent, calendar always/);
      expect(text).toMatch(/why: due 2026-11-23T01:15:00.000Z: /);
      expect(await loadTicketHistory(storage.db, 'IT-9999')).toBeUndefined();
    } finally {
      await storage.close();
    }
  });

  it('runs as a command: exit 0 with the history, 1 for an unknown key, 2 without a key', async () => {
    const env = { TICKETBOT_DB_FILE: dbFile };
    const [ok, missing, usage] = await Promise.all([
      cli(['show', 'IT-1001', '--config', configFile], env),
      cli(['show', 'IT-9999', '--config', configFile], env),
      cli(['show'], env),
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('rule outage-is-urgent set priority = urgent');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no ticket IT-9999');
    expect(usage.code).toBe(2);
  }, 60_000);
});
