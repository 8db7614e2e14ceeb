import type { Benchmark } from './harness';
import { slaBenchmark } from './sla';
import { coreBenchmark } from './core';
import { reportsBenchmark } from './reports';
import { importBenchmark } from './import';
import { schedulerBenchmark } from './scheduler';
import { mixedBenchmark, slackAckBenchmark } from './slack-ack';
import { feishuAckBenchmark } from './feishu-ack';
import { kbSearchBenchmark } from './kb-search';

/** Every benchmark `npm run bench` knows; add new ones here. */
export const benchmarks: Benchmark[] = [coreBenchmark, slaBenchmark, reportsBenchmark, importBenchmark, schedulerBenchmark, feishuAckBenchmark, slackAckBenchmark, mixedBenchmark, kbSearchBenchmark];
