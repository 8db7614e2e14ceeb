import { DomainError, type ErrorCode } from '../domain/errors';
import type { Tx } from '../storage/database';
import { VersionConflict } from '../storage/repos/tickets';
import { inboundResult, recordInbound, storeInboundResult } from '../storage/repos/journal';
import { flushRollup } from '../reports/rollup';
import type { AppContext, CommandMeta } from './context';

export type UseCaseResult<T> = ({ ok: true; value: T } | { ok: false; error: { code: ErrorCode; params: Record<string, string | number> } }) & {
  duplicate?: boolean;
};

const MAX_ATTEMPTS = 5;

/**
 * Runs one use case as one transaction: records the inbound event key first (a repeat returns the
 * first result and changes nothing), retries when a conditional update lost a race, and turns
 * DomainErrors into coded results. Anything else is a bug and propagates to the edge's logger.
 */
export async function runUseCase<T>(
  ctx: AppContext,
  meta: CommandMeta,
  name: string,
  work: (tx: Tx, now: string) => Promise<T>,
): Promise<UseCaseResult<T>> {
  for (let attempt = 1; ; attempt++) {
    const now = ctx.time.now().toISOString();
    try {
      return await ctx.db.transaction().execute(async (tx): Promise<UseCaseResult<T>> => {
        if (meta.eventKey !== undefined) {
          const fresh = await recordInbound(tx, meta.eventKey, now);
          if (!fresh) {
            const stored = await inboundResult(tx, meta.eventKey);
            ctx.logger.info({ useCase: name, eventId: meta.eventKey }, 'duplicate inbound event ignored');
            return { ok: true, value: (stored ? JSON.parse(stored) : null) as T, duplicate: true };
          }
        }
        const value = await work(tx, now);
        // The report rollup follows every ticket this use case wrote, in the same transaction.
        await flushRollup(ctx, tx);
        if (meta.eventKey !== undefined) await storeInboundResult(tx, meta.eventKey, JSON.stringify(value ?? null));
        return { ok: true, value };
      });
    } catch (err) {
      if (err instanceof DomainError) return { ok: false, error: { code: err.code, params: err.params } };
      if (isRetryable(err) && attempt < MAX_ATTEMPTS) {
        ctx.logger.debug({ useCase: name, attempt, eventId: meta.eventKey }, 'retrying after a concurrent change');
        continue;
      }
      if (err instanceof VersionConflict) return { ok: false, error: { code: 'ticket.conflict', params: { key: err.ticketId } } };
      throw err;
    }
  }
}

/** Lost races: our own version check, PostgreSQL serialization/unique races, SQLite busy. */
function isRetryable(err: unknown): boolean {
  if (err instanceof VersionConflict) return true;
  const code = (err as { code?: string } | null)?.code;
  return code === '40001' || code === '40P01' || code === '23505' || code === 'SQLITE_BUSY';
}
