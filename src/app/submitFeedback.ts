import { DomainError } from '../domain/errors';
import { findUser } from '../storage/repos/users';
import type { AppContext, CommandMeta } from './context';
import { runUseCase, type UseCaseResult } from './runner';
import { isMemberOf, isSupervisorOf } from './support';

export interface SubmitFeedbackCommand {
  meta: CommandMeta;
  text: string;
  /** Defaults to the author's department: the first they are a member of, else the first they supervise. */
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
    let departmentId = cmd.departmentId;
    if (departmentId === undefined) {
      // One rule for every platform, so supervisors see their team's ideas on the dashboard.
      const user = await findUser(tx, cmd.meta.actorId);
      const depts = [...ctx.config.departments.keys()];
      const member: string[] = [];
      for (const d of depts) if (await isMemberOf(ctx, tx, d, user)) member.push(d);
      departmentId = member[0] ?? depts.find((d) => isSupervisorOf(ctx, d, user));
    }
    const id = ctx.newId();
    await tx.insertInto('feedback').values({ id, user_id: cmd.meta.actorId, department_id: departmentId ?? null, text, created_at: now }).execute();
    return { id };
  });
}
