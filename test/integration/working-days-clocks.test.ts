import { readFileSync } from 'node:fs';
import { parseConfigText } from '../../src/config/load';
import { changePriority, createTicket, getTicketView } from '../../src/app';
import type { AppContext } from '../../src/app/context';
import type { Storage } from '../../src/storage/database';
import { FIXTURE_CONFIG, ManualTime, as, seedUsers, testContext } from '../support/app';
import { storageVariants } from '../support/storage';

/**
 * A policy in working days on an official CN calendar: the clocks a new ticket gets end at the
 * same local time N working days later, across Spring Festival and its make-up Saturday.
 */
function wdConfig() {
  const text = readFileSync(FIXTURE_CONFIG, 'utf8')
    .replace('    holidays: ["2026-10-01..2026-10-07"]\n    workdays: ["2026-09-27", "2026-10-10"]\n', '    region: CN\n')
    .replace('first_response: 4h, next_response: 4h, resolution: 3d }', 'first_response: 1wd, next_response: 4h, resolution: 2wd }');
  const parsed = parseConfigText(text);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
  expect(parsed.config.raw.calendars['cn-office']!.region).toBe('CN');
  return parsed.config;
}

describe.each(storageVariants())('working-day targets on $name', (variant) => {
  let storage: Storage;
  let ctx: AppContext;
  let u: Record<string, string>;

  beforeEach(async () => {
    storage = await variant.open();
    // Friday 2026-02-13 10:00 Asia/Shanghai, the day before the make-up Saturday
    ctx = testContext(storage, new ManualTime(new Date('2026-02-13T02:00:00.000Z')), wdConfig());
    u = await seedUsers(ctx, [
      { platform: 'slack', id: 'UREQ', name: 'Rita', locale: 'en' },
      { platform: 'slack', id: 'UBOSS', name: 'Boss', locale: 'en' },
    ]);
  });
  afterEach(() => storage.close());

  it('a 1wd / 2wd policy is due on the make-up Saturday and after Spring Festival, same time of day', async () => {
    const r = await createTicket(ctx, { meta: as(u.UREQ!), categoryId: 'no-code', priority: 'normal', title: 'No code', description: '', fields: { account: 'a', device: 'd' } });
    if (!r.ok) throw new Error(r.error.code);
    const view = (await getTicketView(ctx, r.value.ticket.key))!;
    const due = (kind: string) => view.clocks.find((c) => c.kind === kind)!.due_at;
    expect(due('first_response')).toBe('2026-02-14T02:00:00.000Z'); // Sat 02-14 10:00 (make-up workday, 春节)
    expect(due('resolution')).toBe('2026-02-24T02:00:00.000Z'); // Tue 02-24 10:00, after 02-15..23
  });

  it('a priority change to a wd policy retargets the running clock to the working-day due time', async () => {
    const r = await createTicket(ctx, { meta: as(u.UREQ!), categoryId: 'no-code', priority: 'high', title: 'No code', description: '', fields: { account: 'a', device: 'd' } });
    if (!r.ok) throw new Error(r.error.code);
    (ctx.time as ManualTime).set('2026-02-13T03:00:00.000Z');
    const changed = await changePriority(ctx, { meta: as(u.UBOSS!), ticket: r.value.ticket.key, priority: 'normal', reason: 'not urgent' });
    if (!changed.ok) throw new Error(changed.error.code);
    const view = (await getTicketView(ctx, r.value.ticket.key))!;
    expect(view.clocks.find((c) => c.kind === 'resolution')!.due_at).toBe('2026-02-24T02:00:00.000Z');
  });
});
