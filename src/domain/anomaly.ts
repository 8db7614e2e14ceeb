/**
 * Anomaly detection for a department's recent figures [S5.2]: first-response time, backlog and
 * inflow, each compared with its own robust baseline. Pure; the caller builds the series.
 *
 * Baseline: the median and MAD (median absolute deviation, ×1.4826 to estimate a standard
 * deviation) of earlier points — either the same hour of the week over previous weeks (with the
 * neighbouring hours, so a Monday-morning rush is compared with Monday mornings) or a moving
 * window of the preceding points. Median and MAD ignore the odd outlier that would drag a mean.
 *
 * Hysteresis: an episode opens after `openAfter` consecutive points above `openScore`, and closes
 * only after `closeAfter` consecutive points below `closeScore`; one alert per episode, however
 * long it lasts or however much it flickers around the threshold.
 */

export interface SeriesPoint {
  atMs: number;
  /** null when nothing could be measured at this point (e.g. no first responses that hour). */
  value: number | null;
}

export type BaselineKind = { kind: 'same_hour_of_week'; weeks: number; neighbourHours: number } | { kind: 'moving'; points: number };

export interface AnomalyOptions {
  /** Spacing of the series (ms); points are expected on this grid. */
  stepMs: number;
  baseline: BaselineKind;
  /** Fewest baseline points needed to judge at all. */
  minBaselinePoints: number;
  openScore: number;
  closeScore: number;
  openAfter: number;
  closeAfter: number;
  /** Deviations smaller than this (absolute, in the series' unit) never count, e.g. 2 tickets. */
  minDelta: number;
  /** Floor of the scale as a share of the baseline median, so a perfectly flat baseline is not infinitely sensitive. */
  minRelativeScale: number;
}

export interface Baseline {
  median: number;
  /** Robust scale: max(1.4826·MAD, minRelativeScale·median, minDelta / openScore). */
  scale: number;
  points: number;
}

export interface Judgement {
  atMs: number;
  value: number | null;
  baseline: Baseline | null;
  /** (value − median) / scale; null when it could not be judged. */
  score: number | null;
  high: boolean;
}

export interface AnomalyEpisode {
  /** First point of the streak that opened the episode. */
  startMs: number;
  /** Point at which the alert is raised (the streak's last point). */
  alertAtMs: number;
  /** Last point of the episode before it closed; null while still open. */
  endMs: number | null;
  value: number;
  baselineMedian: number;
  peak: number;
}

const HOUR_MS = 3_600_000;
const WEEK_MS = 7 * 24 * HOUR_MS;

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function baselineOf(values: readonly number[], options: Pick<AnomalyOptions, 'minBaselinePoints' | 'minRelativeScale' | 'minDelta' | 'openScore'>): Baseline | null {
  if (values.length < options.minBaselinePoints) return null;
  const m = median(values);
  const mad = median(values.map((v) => Math.abs(v - m)));
  const scale = Math.max(1.4826 * mad, options.minRelativeScale * Math.abs(m), options.minDelta / options.openScore, Number.EPSILON);
  return { median: m, scale, points: values.length };
}

/** Values of earlier points that make the baseline of the point at `index`. */
function baselineValues(series: readonly SeriesPoint[], index: number, byTime: Map<number, number | null>, options: AnomalyOptions): number[] {
  const out: number[] = [];
  const b = options.baseline;
  if (b.kind === 'moving') {
    for (let i = Math.max(0, index - b.points); i < index; i++) {
      const v = series[i]!.value;
      if (v !== null) out.push(v);
    }
    return out;
  }
  const at = series[index]!.atMs;
  for (let w = 1; w <= b.weeks; w++) {
    for (let n = -b.neighbourHours; n <= b.neighbourHours; n++) {
      const v = byTime.get(at - w * WEEK_MS + n * HOUR_MS);
      if (v !== undefined && v !== null) out.push(v);
    }
  }
  return out;
}

/** Judges every point of the series against its own baseline. */
export function judgeSeries(series: readonly SeriesPoint[], options: AnomalyOptions): Judgement[] {
  const byTime = new Map(series.map((p) => [p.atMs, p.value]));
  return series.map((p, i) => {
    const baseline = baselineOf(baselineValues(series, i, byTime, options), options);
    if (!baseline || p.value === null) return { atMs: p.atMs, value: p.value, baseline, score: null, high: false };
    const delta = p.value - baseline.median;
    const score = delta / baseline.scale;
    return { atMs: p.atMs, value: p.value, baseline, score, high: delta >= options.minDelta && score >= options.openScore };
  });
}

/** Episodes of unusually high values, with hysteresis; each episode is one alert. */
export function detectEpisodes(series: readonly SeriesPoint[], options: AnomalyOptions): AnomalyEpisode[] {
  const judgements = judgeSeries(series, options);
  const episodes: AnomalyEpisode[] = [];
  let open: AnomalyEpisode | undefined;
  let highStreak = 0;
  let streakStart = 0;
  let calmStreak = 0;
  let lastHigh = 0;
  for (const j of judgements) {
    if (!open) {
      if (j.high) {
        if (highStreak === 0) streakStart = j.atMs;
        highStreak++;
        if (highStreak >= options.openAfter) {
          open = { startMs: streakStart, alertAtMs: j.atMs, endMs: null, value: j.value!, baselineMedian: j.baseline!.median, peak: j.value! };
          episodes.push(open);
          calmStreak = 0;
          lastHigh = j.atMs;
        }
      } else {
        highStreak = 0;
      }
      continue;
    }
    // Inside an episode: unmeasurable points neither extend nor end it.
    if (j.score === null) continue;
    if (j.value !== null) open.peak = Math.max(open.peak, j.value);
    if (j.score < options.closeScore) {
      calmStreak++;
      if (calmStreak >= options.closeAfter) {
        open.endMs = lastHigh;
        open = undefined;
        highStreak = 0;
      }
    } else {
      calmStreak = 0;
      lastHigh = j.atMs;
    }
  }
  return episodes;
}

/** Defaults per figure, chosen on hourly series. */
export const ANOMALY_DEFAULTS: Record<'first_response' | 'backlog' | 'inflow', AnomalyOptions> = {
  // Hourly median first-response time: compared with the preceding two days.
  first_response: { stepMs: HOUR_MS, baseline: { kind: 'moving', points: 48 }, minBaselinePoints: 12, openScore: 4, closeScore: 2, openAfter: 2, closeAfter: 3, minDelta: 15 * 60_000, minRelativeScale: 0.15 },
  // Open tickets at each hour: a backlog moves slowly, so a day's window shows a real build-up.
  backlog: { stepMs: HOUR_MS, baseline: { kind: 'moving', points: 24 }, minBaselinePoints: 12, openScore: 4, closeScore: 2, openAfter: 2, closeAfter: 3, minDelta: 5, minRelativeScale: 0.1 },
  // Tickets created per hour: same hour of the week over four weeks, with neighbouring hours.
  inflow: { stepMs: HOUR_MS, baseline: { kind: 'same_hour_of_week', weeks: 4, neighbourHours: 1 }, minBaselinePoints: 6, openScore: 4, closeScore: 2, openAfter: 1, closeAfter: 2, minDelta: 5, minRelativeScale: 0.2 },
};
