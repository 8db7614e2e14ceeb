import type { Config } from '../config/model';
import type { DbOrTx } from '../storage/database';

/**
 * The workflow figures beside the six (issue 17; definitions in ./definitions.ts): misrouting rate
 * per category and the number of manual escalations in a period. Read from tickets and the audit
 * trail (recategorised with reason "miscategorised", escalated_by_person).
 */
export interface MisroutingRow {
  categoryId: string;
  /** Tickets raised in the period in this category (as first chosen). */
  created: number;
  /** Of those, how many a member moved to a category of another department. */
  misrouted: number;
  rate: number | null;
}

export interface WorkflowFigures {
  misrouting: MisroutingRow[];
  manualEscalations: number;
}

export async function loadWorkflowFigures(db: DbOrTx, config: Config, p: { fromMs: number; toMs: number; departmentIds?: readonly string[] | undefined }): Promise<WorkflowFigures> {
  const from = new Date(p.fromMs).toISOString();
  const to = new Date(p.toMs).toISOString();
  const byCategory = await db
    .selectFrom('tickets')
    .select(['category_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('created_at', '>=', from)
    .where('created_at', '<', to)
    .groupBy('category_id')
    .execute();
  const moves = await db
    .selectFrom('audit_events as a')
    .innerJoin('tickets as t', 't.id', 'a.ticket_id')
    .select(['a.ticket_id', 'a.data', 'a.reason', 't.category_id'])
    .where('a.action', '=', 'recategorised')
    .where('t.created_at', '>=', from)
    .where('t.created_at', '<', to)
    .orderBy('a.at')
    .orderBy('a.id')
    .execute();
  const created = new Map<string, number>(byCategory.map((r) => [r.category_id, Number(r.n)]));
  const misrouted = new Map<string, number>();
  const seen = new Set<string>();
  for (const m of moves) {
    if (seen.has(m.ticket_id)) continue; // the first correction names the category first chosen
    seen.add(m.ticket_id);
    const original = String((JSON.parse(m.data ?? '{}') as { from?: string }).from ?? m.category_id);
    created.set(m.category_id, (created.get(m.category_id) ?? 1) - 1);
    created.set(original, (created.get(original) ?? 0) + 1);
    if (m.reason === 'miscategorised') misrouted.set(original, (misrouted.get(original) ?? 0) + 1);
  }
  const wanted = (categoryId: string) => !p.departmentIds || p.departmentIds.includes(config.leaves.get(categoryId)?.department ?? '');
  const misrouting = [...created.entries()]
    .filter(([c, n]) => n > 0 && wanted(c))
    .map(([categoryId, n]) => {
      const bad = misrouted.get(categoryId) ?? 0;
      return { categoryId, created: n, misrouted: bad, rate: n ? bad / n : null };
    })
    .sort((a, b) => b.misrouted - a.misrouted || (b.rate ?? 0) - (a.rate ?? 0) || a.categoryId.localeCompare(b.categoryId));
  let esc = db.selectFrom('audit_events as a').innerJoin('tickets as t', 't.id', 'a.ticket_id').select((eb) => eb.fn.countAll<number>().as('n')).where('a.action', '=', 'escalated_by_person').where('a.at', '>=', from).where('a.at', '<', to);
  if (p.departmentIds) esc = esc.where('t.department_id', 'in', p.departmentIds);
  const row = await esc.executeTakeFirst();
  return { misrouting, manualEscalations: Number(row?.n ?? 0) };
}
