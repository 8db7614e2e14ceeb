import type { Benchmark } from './harness';
import { coreBenchmark } from './core';

/** Every benchmark `npm run bench` knows; add new ones here. */
export const benchmarks: Benchmark[] = [coreBenchmark];
