import { DomainError } from '../domain/errors';
import type { AppContext, CommandMeta } from './context';
import { runUseCase, type UseCaseResult } from './runner';

export interface SubmitFeedbackCommand {
  meta: CommandMeta;
  text: string;
  departmentId?: string | undefined;
}

/** `/ticket feedback <idea>`: agents' improvement suggestions [S5.3], listed for admins. */
export function submitFeedback(ctx: AppContext, cmd: SubmitFeedbackCommand): Promise<UseCaseResult<{ id: string }>> {
  return runUseCase(ctx, cmd.meta, 'submitFeedback', async (tx, now) => {
    const text = cmd.text.trim();
    if (text === '') throw new DomainError('ticket.missing_fields', { fields: 'text' });
    if (text.length > 4000) throw new DomainError('ticket.invalid_input', { field: 'text', problem: 'at most 4000 characters' });
    if (cmd.departmentId !== undefined && !ctx.config.departments.has(cmd.departmentId))
      throw new DomainError('ticket.unknown_department', { department: cmd.departmentId });
    const id = ctx.newId();
    await tx.insertInto('feedback').values({ id, user_id: cmd.meta.actorId, department_id: cmd.departmentId ?? null, text, created_at: now }).execute();
    return { id };
  });
}
