import type { Benchmark } from './harness';

/** Every benchmark `npm run bench` knows; add new ones here. */
export const benchmarks: Benchmark[] = [];
