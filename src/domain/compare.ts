/**
 * Is a change between two periods more than chance? Pure statistics for the figures' colours and
 * the words "faster/slower" in the digest. A change is *significant* when a two-sided test at the
 * 5 % level (|z| > 1.96) rejects "same underlying value in both periods":
 *
 * - rates (on-time, satisfaction, …): the two-proportion z-test with pooled proportion,
 *   z = (p1 − p2) / √(p(1−p)(1/n1 + 1/n2));
 * - mean durations: Welch's z on the means, z = (m1 − m2) / √(s1²/n1 + s2²/n2), with each sample's
 *   standard deviation; when it is not known (a rollup that kept only the mean), response times
 *   are taken as exponential, so s = m (a conservative guess for skewed waiting times);
 * - counts over equally long periods (created, resolved): the conditional Poisson test — given
 *   x1 + x2 events, x1 ~ Binomial(x1 + x2, ½) under no change — as z = (x1 − x2) / √(x1 + x2).
 *
 * Normal approximations: below a handful of items (n < 5 on either side) nothing is called
 * significant, so a figure based on two tickets is never coloured.
 */

export const Z_CRITICAL = 1.96;
export const MIN_SAMPLE = 5;

export type ChangeTest = 'two_proportion' | 'welch_mean' | 'poisson_count';

export interface Change {
  /** current − previous (ms, a fraction 0..1, or a count). */
  absolute: number;
  /** absolute ÷ previous; null when previous is 0. */
  relative: number | null;
  direction: 'up' | 'down' | 'same';
  z: number | null;
  significant: boolean;
  test: ChangeTest;
}

function finish(absolute: number, previous: number, z: number | null, test: ChangeTest): Change {
  return {
    absolute,
    relative: previous !== 0 ? absolute / Math.abs(previous) : null,
    direction: absolute > 0 ? 'up' : absolute < 0 ? 'down' : 'same',
    z,
    significant: z !== null && Math.abs(z) > Z_CRITICAL,
    test,
  };
}

/** Rate x1/n1 now against x2/n2 before. */
export function compareProportions(x1: number, n1: number, x2: number, n2: number): Change | null {
  if (n1 <= 0 || n2 <= 0) return null;
  const p1 = x1 / n1;
  const p2 = x2 / n2;
  const pooled = (x1 + x2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  const z = n1 < MIN_SAMPLE || n2 < MIN_SAMPLE || se === 0 ? null : (p1 - p2) / se;
  return finish(p1 - p2, p2, z, 'two_proportion');
}

export interface MeanSample {
  mean: number;
  count: number;
  /** Sample standard deviation when known. */
  sd?: number | null | undefined;
}

/** Mean duration now against before. */
export function compareMeans(now: MeanSample, before: MeanSample): Change | null {
  if (now.count <= 0 || before.count <= 0) return null;
  const s1 = now.sd ?? now.mean;
  const s2 = before.sd ?? before.mean;
  const se = Math.sqrt((s1 * s1) / now.count + (s2 * s2) / before.count);
  const z = now.count < MIN_SAMPLE || before.count < MIN_SAMPLE || se === 0 ? null : (now.mean - before.mean) / se;
  return finish(now.mean - before.mean, before.mean, z, 'welch_mean');
}

/** Count in this period against the count in an equally long period before. */
export function compareCounts(now: number, before: number): Change {
  const total = now + before;
  const z = total < MIN_SAMPLE ? null : (now - before) / Math.sqrt(total);
  return finish(now - before, before, z, 'poisson_count');
}
