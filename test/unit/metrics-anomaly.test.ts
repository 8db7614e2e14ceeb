import { ANOMALY_DEFAULTS, baselineOf, detectEpisodes, type SeriesPoint } from '../../src/domain/anomaly';

const HOUR = 3_600_000;
const START = Date.parse('2026-01-05T00:00:00Z'); // a Monday

/** Deterministic pseudo-random numbers (mulberry32), so a failure is reproducible. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Tickets per hour: busy on working hours, quiet at night and weekends, with noise. */
function inflowSeries(weeks: number, seed: number, spike?: (hour: number) => number): SeriesPoint[] {
  const random = rng(seed);
  const out: SeriesPoint[] = [];
  for (let h = 0; h < weeks * 7 * 24; h++) {
    const hourOfDay = h % 24;
    const weekday = Math.floor(h / 24) % 7;
    const base = weekday < 5 && hourOfDay >= 1 && hourOfDay < 10 ? 20 : 2;
    const noise = Math.round((random() - 0.5) * 2 * Math.sqrt(base) * 1.5);
    out.push({ atMs: START + h * HOUR, value: Math.max(0, base + noise + (spike?.(h) ?? 0)) });
  }
  return out;
}

describe('anomaly detection', () => {
  it('raises nothing on normal noise, whatever the seed', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      expect(detectEpisodes(inflowSeries(6, seed), ANOMALY_DEFAULTS.inflow)).toEqual([]);
    }
  });

  it('raises one alert for an episode, even when it flickers around the threshold', () => {
    const spikeStart = 5 * 7 * 24 + 2 * 24 + 3; // week 6, Wednesday 03:00Z (11:00 Shanghai)
    // Six hours of a surge, with one hour back near normal in the middle.
    const spike = (h: number) => (h >= spikeStart && h < spikeStart + 6 ? (h === spikeStart + 3 ? 2 : 40) : 0);
    const episodes = detectEpisodes(inflowSeries(6, 11, spike), ANOMALY_DEFAULTS.inflow);
    expect(episodes).toHaveLength(1);
    expect(episodes[0]!.startMs).toBe(START + spikeStart * HOUR);
    expect(episodes[0]!.alertAtMs).toBe(START + spikeStart * HOUR);
    expect(episodes[0]!.endMs).toBe(START + (spikeStart + 5) * HOUR);
    expect(episodes[0]!.peak).toBeGreaterThanOrEqual(55);
    expect(episodes[0]!.baselineMedian).toBeGreaterThan(15);
  });

  it('raises a second alert only for a second, separate episode', () => {
    const a = 5 * 7 * 24 + 24 + 2;
    const b = a + 48;
    const spike = (h: number) => ((h >= a && h < a + 3) || (h >= b && h < b + 3) ? 50 : 0);
    const episodes = detectEpisodes(inflowSeries(6, 3, spike), ANOMALY_DEFAULTS.inflow);
    expect(episodes.map((e) => (e.startMs - START) / HOUR)).toEqual([a, b]);
  });

  it('does not judge without enough history', () => {
    const short = inflowSeries(1, 5, (h) => (h === 30 ? 100 : 0));
    expect(detectEpisodes(short, ANOMALY_DEFAULTS.inflow)).toEqual([]);
  });

  it('notices first responses slowing down and a backlog building up, once each', () => {
    const random = rng(9);
    const frt: SeriesPoint[] = [];
    for (let h = 0; h < 96; h++) {
      const slow = h >= 72 && h < 80; // day 4, 00:00–08:00Z
      frt.push({ atMs: START + h * HOUR, value: h % 24 >= 10 ? null : (slow ? 150 : 30) * 60_000 + random() * 10 * 60_000 });
    }
    const frtEpisodes = detectEpisodes(frt, ANOMALY_DEFAULTS.first_response);
    expect(frtEpisodes).toHaveLength(1);
    expect(frtEpisodes[0]!.startMs).toBe(START + 72 * HOUR);

    const backlog: SeriesPoint[] = [];
    for (let h = 0; h < 96; h++) backlog.push({ atMs: START + h * HOUR, value: 40 + Math.round(random() * 4) + (h >= 72 ? (h - 71) * 3 : 0) });
    expect(detectEpisodes(backlog, ANOMALY_DEFAULTS.backlog)).toHaveLength(1);
  });

  it('keeps a flat baseline from being infinitely sensitive', () => {
    const b = baselineOf([0, 0, 0, 0, 0, 0], ANOMALY_DEFAULTS.inflow)!;
    expect(b.median).toBe(0);
    expect(b.scale).toBeGreaterThan(0);
    const series: SeriesPoint[] = Array.from({ length: 5 * 7 * 24 }, (_, h) => ({ atMs: START + h * HOUR, value: h === 4 * 7 * 24 + 3 ? 1 : 0 }));
    expect(detectEpisodes(series, ANOMALY_DEFAULTS.inflow)).toEqual([]);
  });
});
