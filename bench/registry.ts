import type { Benchmark } from './harness';
import { slaBenchmark } from './sla';
import { coreBenchmark } from './core';

/** Every benchmark `npm run bench` knows; add new ones here. */
export const benchmarks: Benchmark[] = [coreBenchmark, slaBenchmark];
