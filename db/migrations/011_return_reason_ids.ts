import { Kysely } from 'kysely';

/**
 * Old return reasons (issue 14): Feishu stored a listed reason's display name ("分派错误",
 * "Wrong department") where Slack stored its id ("wrong-department"), so reports counted one
 * reason twice. This data migration rewrites the names (both languages, as configured) to the id,
 * on the legs and on the `leg_returned` audit rows, and marks the report rollup stale when it
 * changed anything (the rollup is rebuilt at start, with the reason counted once).
 *
 * The reasons come from the config (`return_reasons`), which a migration cannot see by itself:
 * `migrate(db, { returnReasons })` hands them in (src/main.ts and `ticketbot migrate` pass the
 * loaded config's). Without them nothing is rewritten here, but the start of the bot does it
 * (see rewriteReturnReasonNames). Typed free-text reasons are left alone.
 */
export interface ReturnReasonNames {
  id: string;
  name: Record<string, string>;
}

/**
 * The rewrite itself; idempotent (a second run finds no names). Also run at every start after
 * `migrate` with the loaded config (src/storage/database.ts prepareDatabase, called by src/main.ts),
 * so a `ticketbot migrate` run without the config, which records 011 applied having rewritten
 * nothing, cannot leave the names behind. Returns the number of legs rewritten.
 */
export async function rewriteReturnReasonNames(db: Kysely<any>, reasons: readonly ReturnReasonNames[]): Promise<number> {
  let changed = 0;
  for (const r of reasons) {
    const names = [...new Set(Object.values(r.name).map((n) => n.trim()))].filter((n) => n !== '' && n !== r.id);
    if (names.length === 0) continue;
    const legs = await db.updateTable('legs').set({ return_reason: r.id }).where('return_reason', 'in', names).executeTakeFirst();
    const audits = await db.updateTable('audit_events').set({ reason: r.id }).where('action', '=', 'leg_returned').where('reason', 'in', names).executeTakeFirst();
    changed += Number(legs.numUpdatedRows ?? 0) + Number(audits.numUpdatedRows ?? 0);
  }
  if (changed > 0) await db.deleteFrom('report_rollup_meta').execute();
  return changed;
}

export function withReasons(reasons: readonly ReturnReasonNames[]): { up(db: Kysely<any>): Promise<void>; down(db: Kysely<any>): Promise<void> } {
  return {
    async up(db) {
      await rewriteReturnReasonNames(db, reasons);
    },
    // The names are not restored: ids are what every platform stores now.
    async down() {},
  };
}

/** Without the config's reasons (see above): nothing to rewrite. */
export const { up, down } = withReasons([]);
