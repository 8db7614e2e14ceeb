import type { AppContext } from '../app/context';
import { digestMessages, runReportTask, type ReportKind, type ReportResults, type TaskOf } from './tasks';

/**
 * Where report work runs (issue 16). Production: a pool of worker threads with their own
 * read-only connections (src/reports/pool.ts), so a year-long summary or a chart never blocks
 * the event loop that acks Slack and Feishu. Inline: on the caller's connection, for `:memory:`
 * databases (a worker cannot share them), the CLI, and `TICKETBOT_REPORT_WORKERS=0`. Both run
 * `runReportTask`, and both hand back a structured clone of its answer, so a caller sees the same
 * shapes either way.
 */
export interface ReportRunner {
  readonly mode: 'worker' | 'inline';
  run<K extends ReportKind>(task: TaskOf<K>, onChunk?: (chunk: string) => void | Promise<void>): Promise<ReportResults[K]>;
  close(): Promise<void>;
}

/** A report ran past its time limit; its worker was terminated (and is replaced). Users are told to ask for a shorter period. */
export class ReportTimeout extends Error {
  constructor(readonly kind: string, readonly limitMs: number) {
    super(`report ${kind} took longer than ${limitMs} ms and was cancelled`);
    this.name = 'ReportTimeout';
  }
}

/** The worker running a report died (crash, out of memory); the bot carries on and the worker is replaced. */
export class ReportWorkerFailed extends Error {
  constructor(readonly kind: string, message: string) {
    super(`report worker failed during ${kind}: ${message}`);
    this.name = 'ReportWorkerFailed';
  }
}

export function inlineReportRunner(ctx: Pick<AppContext, 'db' | 'config' | 'calendars'>): ReportRunner {
  return {
    mode: 'inline',
    async run(task, onChunk) {
      const result = await runReportTask(ctx, task, onChunk);
      return (task.kind === 'digest' ? digestMessages(structuredClone(result) as never) : structuredClone(result)) as never;
    },
    close: async () => {},
  };
}

/** The context's runner, or inline on its own connection when none was set (tests, CLI). */
export function reportsOf(ctx: Pick<AppContext, 'db' | 'config' | 'calendars' | 'reports'>): ReportRunner {
  return ctx.reports ?? inlineReportRunner(ctx);
}

/** Streamed chunks (2,000 CSV rows each) a report worker may have sent that the bot has not yet written out. */
export const CHUNKS_IN_FLIGHT = 4;
