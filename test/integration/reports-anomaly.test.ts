import pino from 'pino';
import { calendarsFromConfig } from '../../src/domain/calendar';
import { detectDepartmentAnomalies, formatAnomalyText } from '../../src/reports/anomaly';
import type { Storage } from '../../src/storage/database';
import { ANOMALY_END, hourlyTickets, reportConfig } from '../fixtures/reports';
import { storageVariants } from '../support/storage';

const HOUR = 3_600_000;
const config = reportConfig();
const END = ANOMALY_END;
const tickets = (surge: number) => hourlyTickets(END, surge);

describe.each(storageVariants())('anomaly alerts on $name', (variant) => {
  let storage: Storage;
  const ctx = () => ({ db: storage.db, config, calendars: calendarsFromConfig(config.raw), logger: pino({ level: 'silent' }) });

  beforeEach(async () => {
    storage = await variant.open();
  });
  afterEach(async () => storage.close());

  it('alerts once when inflow surges, and not again in the next hour of the same episode', async () => {
    const rows = tickets(30);
    for (let i = 0; i < rows.length; i += 500) await storage.db.insertInto('tickets').values(rows.slice(i, i + 500)).execute();
    const alerts = await detectDepartmentAnomalies(ctx(), new Date(END - HOUR + 5 * 60_000));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ departmentId: 'it', metric: 'inflow', value: 33, baseline: 3, supervisors: ['slack:UITBOSS'] });
    expect(alerts[0]!.key).toBe(`anomaly:it:inflow:${new Date(END - 2 * HOUR).toISOString()}`);
    expect(formatAnomalyText(alerts[0]!, config, 'en', 'https://desk/x')).toBe('IT: new tickets per hour is unusually high: 33 (usual 3). Details: https://desk/x');
    // The surge goes on for a second hour: same episode, no second alert.
    expect(await detectDepartmentAnomalies(ctx(), new Date(END + 5 * 60_000))).toEqual([]);
  });

  it('stays quiet on an ordinary week', async () => {
    const rows = tickets(0);
    for (let i = 0; i < rows.length; i += 500) await storage.db.insertInto('tickets').values(rows.slice(i, i + 500)).execute();
    expect(await detectDepartmentAnomalies(ctx(), new Date(END + 5 * 60_000))).toEqual([]);
  });
});
