import { compareCounts, compareMeans, compareProportions, type Change } from '../domain/compare';
import { HEADLINE_METRICS, headlineFigures, type HeadlineMetric, type MetricsReport, type Ratio } from '../domain/metrics';
import type { PeriodKind } from '../domain/periods';
import type { Locale } from '../domain/types';
import { formatRate } from './format';
import { rt } from './i18n';

/**
 * Figures with their meaning: value, unit, sample size and the change against the previous
 * period, with whether that change is beyond what the sample sizes explain (domain/compare.ts).
 * One model for the dashboard's cards, `/ticket stats` and the weekly digest.
 */

export type FigureMetric = HeadlineMetric | 'created' | 'resolved' | 'backlog' | 'reopen_rate';
export type FigureKind = 'duration' | 'rate' | 'count';

export interface ComparedFigure {
  metric: FigureMetric;
  kind: FigureKind;
  value: number | null;
  previous: number | null;
  /** Items the value is based on (tickets answered, clocks completed, answers…). */
  basis: number;
  previousBasis: number;
  higherIsBetter: boolean | null;
  change: Change | null;
}

function rateChange(now: Ratio, before: Ratio): Change | null {
  return compareProportions(now.numerator, now.denominator, before.numerator, before.denominator);
}

/** The six headline figures and the volume row, each compared with the previous period. */
export function compareReports(current: MetricsReport, previous: MetricsReport): ComparedFigure[] {
  const before = new Map(headlineFigures(previous).map((f) => [f.metric, f]));
  const ratios = (r: MetricsReport): Partial<Record<HeadlineMetric, Ratio>> => ({
    first_contact_resolution: r.firstContactResolution,
    on_time: r.onTime,
    return_rate: r.returns,
    csat: r.csat.satisfied,
  });
  const nowRatios = ratios(current);
  const beforeRatios = ratios(previous);
  const durations = { first_response: [current.firstResponse, previous.firstResponse], resolution: [current.resolution, previous.resolution] } as const;
  const head: ComparedFigure[] = headlineFigures(current).map((f) => {
    const prev = before.get(f.metric)!;
    let change: Change | null = null;
    if (f.metric === 'first_response' || f.metric === 'resolution') {
      const [now, then] = durations[f.metric];
      if (now.meanMs !== null && then.meanMs !== null) change = compareMeans({ mean: now.meanMs, count: now.count }, { mean: then.meanMs, count: then.count });
    } else {
      change = rateChange(nowRatios[f.metric]!, beforeRatios[f.metric]!);
    }
    return { metric: f.metric, kind: f.kind, value: f.value, previous: prev.value, basis: f.basis, previousBasis: prev.basis, higherIsBetter: f.higherIsBetter, change };
  });
  const count = (metric: FigureMetric, now: number, then: number, higherIsBetter: boolean | null): ComparedFigure => ({
    metric,
    kind: 'count',
    value: now,
    previous: then,
    basis: now,
    previousBasis: then,
    higherIsBetter,
    change: compareCounts(now, then),
  });
  return [
    ...head,
    count('created', current.volume.created, previous.volume.created, null),
    count('resolved', current.volume.resolved, previous.volume.resolved, true),
    // The backlog is a level, not a count of events: its change is shown but never tested.
    { ...count('backlog', current.backlog.open, previous.backlog.open, false), change: { ...compareCounts(current.backlog.open, previous.backlog.open), z: null, significant: false } },
    {
      metric: 'reopen_rate',
      kind: 'rate',
      value: current.reopen.rate,
      previous: previous.reopen.rate,
      basis: current.reopen.denominator,
      previousBasis: previous.reopen.denominator,
      higherIsBetter: false,
      change: rateChange(current.reopen, previous.reopen),
    },
  ];
}

/** Good, bad, or neither (not significant, or no better direction). */
export function verdict(f: ComparedFigure): 'good' | 'bad' | 'neutral' {
  if (!f.change || !f.change.significant || f.higherIsBetter === null || f.change.direction === 'same') return 'neutral';
  return (f.change.direction === 'up') === f.higherIsBetter ? 'good' : 'bad';
}

// ---------------------------------------------------------------------------------------------
// Numbers with units

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

function decimal(n: number): string {
  const r = Math.round(n * 10) / 10;
  return Number.isInteger(r) ? r.toFixed(0) : r.toFixed(1);
}

/** A duration as one number and a unit: 45 min, 1.2 h, 2.5 d (business time). */
export function durationAmount(ms: number, locale: Locale): { number: string; unit: string } {
  const abs = Math.abs(ms);
  if (abs < HOUR) return { number: String(Math.round(ms / MIN)), unit: rt(locale, 'fig.unit.min') };
  if (abs < 2 * DAY) return { number: decimal(ms / HOUR), unit: rt(locale, 'fig.unit.h') };
  return { number: decimal(ms / DAY), unit: rt(locale, 'fig.unit.d') };
}

/** The value with its unit for reading: "1.2 h", "80%", "12". */
export function figureValueText(f: Pick<ComparedFigure, 'kind' | 'value'>, locale: Locale): string {
  if (f.value === null) return rt(locale, 'metric.no_data');
  if (f.kind === 'duration') {
    const a = durationAmount(f.value, locale);
    return `${a.number} ${a.unit}`;
  }
  if (f.kind === 'rate') return formatRate(f.value, locale);
  return String(f.value);
}

/** Percentage points with a sign: "+3.2 pt". */
function points(diff: number, locale: Locale): string {
  const p = Math.round(diff * 1000) / 10;
  return rt(locale, 'fig.points', { n: `${p > 0 ? '+' : p < 0 ? '−' : '±'}${decimal(Math.abs(p))}` });
}

function signed(text: string, n: number): string {
  return `${n > 0 ? '+' : n < 0 ? '−' : '±'}${text}`;
}

/** The absolute change with its unit: "−12 min", "+3.2 pt", "+5". */
export function absoluteChangeText(f: ComparedFigure, locale: Locale): string {
  if (!f.change) return '';
  const a = f.change.absolute;
  if (f.kind === 'duration') {
    const amount = durationAmount(Math.abs(a), locale);
    return signed(`${amount.number} ${amount.unit}`, a);
  }
  if (f.kind === 'rate') return points(a, locale);
  return signed(String(Math.abs(a)), a);
}

/** The relative change: "−18 %", or '' when the previous value was 0. */
export function relativeChangeText(f: ComparedFigure): string {
  const rel = f.change?.relative;
  if (rel === null || rel === undefined) return '';
  return `${signed(decimal(Math.abs(rel * 100)), rel)} %`;
}

export function previousPeriodName(kind: PeriodKind, locale: Locale): string {
  return rt(locale, kind === 'days' || kind === 'custom' ? 'fig.prev.period' : `fig.prev.${kind}`);
}

/**
 * The figure in words: "首次响应 1.2 小时,比上周快 18 %" / "First response 1.2 h, 18 % faster than
 * last week", plus "(within normal variation)" when the sample sizes explain the change.
 */
export function figureSentence(f: ComparedFigure, periodKind: PeriodKind, locale: Locale): string {
  // Headline figures go by the names the dashboard's cards use.
  const name = (HEADLINE_METRICS as readonly string[]).includes(f.metric) ? rt(locale, `metric.${f.metric as HeadlineMetric}`) : rt(locale, `fig.name.${f.metric}`);
  const value = figureValueText(f, locale);
  const basis = rt(locale, `fig.basis.${f.metric}`, { n: f.basis });
  if (f.value === null) return rt(locale, 'fig.sentence.no_data', { name });
  const prev = previousPeriodName(periodKind, locale);
  const c = f.change;
  if (!c || f.previous === null) return rt(locale, 'fig.sentence.no_previous', { name, value, basis, prev });
  if (c.direction === 'same') return rt(locale, 'fig.sentence.same', { name, value, basis, prev });
  const up = c.direction === 'up';
  const word = rt(locale, `fig.word.${f.kind}.${up ? 'up' : 'down'}`);
  // Rates change in percentage points; durations and counts by a share of the old value.
  const amount = f.kind === 'rate' ? rt(locale, 'fig.points', { n: decimal(Math.abs(c.absolute) * 100) }) : c.relative !== null ? `${Math.round(Math.abs(c.relative) * 100)} %` : String(Math.abs(c.absolute));
  const noise = c.significant ? '' : rt(locale, 'fig.within_noise');
  return rt(locale, 'fig.sentence', { name, value, basis, prev, word, amount, noise });
}
