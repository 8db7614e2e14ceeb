import fc from 'fast-check';
import type { Config } from '../../src/config/model';
import { dayKeyer } from '../../src/domain/metrics';
import { partsOfDays } from '../../src/reports/queries';

/**
 * The parts of report days a period's edges are cut into (reports/queries.ts partsOfDays): each part
 * lies in one report day, and with the rest of that day makes the whole day — also on days of 23 and
 * 25 hours and in zones whose midnight is not on a whole UTC hour.
 */

const H = 3_600_000;
const MIN = 60_000;

const zoneConfig = (timezone: string) =>
  ({ raw: { digest: { weekly: { calendar: 'c' } }, calendars: { c: { timezone } }, departments: [] } }) as unknown as Config;

describe('partsOfDays', () => {
  it.each([
    ['Europe/Berlin', '2026-03-28T12:00:00Z'],
    ['Europe/Berlin', '2026-10-24T12:00:00Z'],
    ['America/New_York', '2026-03-07T12:00:00Z'],
    ['America/New_York', '2026-10-31T12:00:00Z'],
    ['Asia/Kolkata', '2026-03-01T00:00:00Z'],
    ['Asia/Shanghai', '2026-03-01T00:00:00Z'],
  ])('cuts ranges at report-day boundaries in %s around %s', (zone, around) => {
    const config = zoneConfig(zone);
    const dayOf = dayKeyer(zone);
    const base = Date.parse(around);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 * 24 * 60 }), fc.integer({ min: 1, max: 50 * 60 }), fc.integer({ min: 0, max: 59_999 }), (startMin, lengthMin, jitter) => {
        const fromMs = base + startMin * MIN + jitter;
        const toMs = fromMs + lengthMin * MIN;
        const parts = partsOfDays(config, [[fromMs, toMs]]);
        // In order, touching, covering the range exactly.
        expect(parts[0]!.range[0]).toBe(fromMs);
        expect(parts.at(-1)!.range[1]).toBe(toMs);
        parts.forEach((part, i) => {
          if (i > 0) expect(part.range[0]).toBe(parts[i - 1]!.range[1]);
          const [from, to] = part.range;
          expect(to).toBeGreaterThan(from);
          expect(dayOf(from)).toBe(part.day);
          expect(dayOf(to - 1)).toBe(part.day);
          // Range and rest make the whole report day, and nothing of the days around it.
          const pieces = [...part.rest, part.range].sort((a, b) => a[0] - b[0]);
          for (let j = 1; j < pieces.length; j++) expect(pieces[j]![0]).toBe(pieces[j - 1]![1]);
          const dayStart = pieces[0]![0];
          const dayEnd = pieces.at(-1)![1];
          expect(dayOf(dayStart)).toBe(part.day);
          expect(dayOf(dayEnd - 1)).toBe(part.day);
          expect(dayOf(dayStart - 1)).not.toBe(part.day);
          expect(dayOf(dayEnd)).not.toBe(part.day);
          expect(dayEnd - dayStart).toBeGreaterThanOrEqual(23 * H);
          expect(dayEnd - dayStart).toBeLessThanOrEqual(25 * H);
        });
      }),
      { numRuns: 200 },
    );
  });
});
