import fc from 'fast-check';
import { cellKey, decodeContribution, encodeContribution, type Contribution } from '../../src/reports/rollup';

/** The stored form of a ticket's rollup contribution (report_contributions.cells). */

const KINDS = ['created', 'first_response', 'resolved', 'closed', 'survey_score', 'clock_late', 'clock_on_time', 'leg', 'return_reason', 'leg_accept', 'leg_duration'];

const entry = fc.record({
  kind: fc.constantFrom(...KINDS),
  day: fc.constantFrom('2026-03-01', '2026-03-02', '2026-12-31'),
  dept: fc.constantFrom('it', 'finance', 'cs'),
  from: fc.constantFrom('', 'it', 'hr'),
  label: fc.constantFrom('', 'first_response', 'resolution', 'wrong-team', 'reason with, a comma'),
  n: fc.integer({ min: -3, max: 5 }),
  v: fc.array(fc.oneof(fc.integer({ min: 0, max: 10 ** 9 }), fc.double({ min: 0, max: 1e12, noNaN: true })), { maxLength: 3 }),
});

function contribution(entries: { kind: string; day: string; dept: string; from: string; label: string; n: number; v: number[] }[], category = 'crash', priority = 'high'): Contribution {
  const c: Contribution = new Map();
  for (const e of entries) c.set(cellKey(e.kind, e.day, e.dept, e.from, category, priority, e.label), { n: e.n, v: e.v });
  return c;
}

describe('rollup contribution codec', () => {
  it('decodes what it encodes, in the same order, and equal contributions encode to equal text', () => {
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 16 }), (entries) => {
        const c = contribution(entries);
        const text = encodeContribution(c);
        const back = decodeContribution(text);
        expect([...back]).toEqual([...c]);
        expect(encodeContribution(back)).toBe(text);
      }),
    );
  });

  it('is several times smaller than the JSON form it replaced, and still reads that form', () => {
    const c = contribution([
      { kind: 'created', day: '2026-03-01', dept: 'it', from: '', label: '', n: 1, v: [] },
      { kind: 'first_response', day: '2026-03-01', dept: 'it', from: '', label: '', n: 1, v: [785099] },
      { kind: 'clock_on_time', day: '2026-03-02', dept: 'it', from: '', label: 'resolution', n: 1, v: [] },
      { kind: 'leg_duration', day: '2026-03-01', dept: 'it', from: '', label: '', n: 0, v: [64800000] },
    ]);
    const json = JSON.stringify([...c].map(([k, { n, v }]) => (v.length ? [k, n, v] : [k, n])));
    expect(encodeContribution(c).length * 2).toBeLessThan(json.length);
    expect([...decodeContribution(json)]).toEqual([...c]);
  });

  it('falls back to JSON for a kind it has no code for, or keys of two categories', () => {
    const odd = contribution([{ kind: 'some_new_kind', day: '2026-03-01', dept: 'it', from: '', label: '', n: 1, v: [2] }]);
    expect(encodeContribution(odd).startsWith('[')).toBe(true);
    expect([...decodeContribution(encodeContribution(odd))]).toEqual([...odd]);
    const mixed = new Map([...contribution([{ kind: 'created', day: '2026-03-01', dept: 'it', from: '', label: '', n: 1, v: [] }], 'crash'), ...contribution([{ kind: 'closed', day: '2026-03-01', dept: 'it', from: '', label: '', n: 1, v: [] }], 'billing')]);
    expect([...decodeContribution(encodeContribution(mixed))]).toEqual([...mixed]);
  });
});
