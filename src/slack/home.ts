import { departmentsOf, listMine, listQueue } from '../app/queries';
import { formatTime, ticketListItem, type TicketListItem } from '../chat/views';
import { departmentFigures } from '../chat/dispatcher';
import { homeView, type HomeModel } from './presenters';
import { defaultTimeZone, describeSlackError, type Actor, type SlackRuntime } from './runtime';

/** App Home: my open tickets, my departments' queues (priority, then due), overdue, supervisors' numbers. */
export async function buildHome(rt: SlackRuntime, actor: Actor): Promise<HomeModel> {
  const zone = actor.timeZone ?? defaultTimeZone(rt.ctx);
  const item = (r: Parameters<typeof ticketListItem>[0]) => ticketListItem(r, actor.locale, zone);
  const mine = await listMine(rt.ctx, actor.id);
  const depts = await departmentsOf(rt.ctx, actor.id);
  const queueIds = [...new Set([...depts.member, ...depts.supervisor])];
  const queues: HomeModel['queues'] = [];
  const overdue = new Map<string, TicketListItem>();
  for (const r of mine.assigned) if (r.overdue) overdue.set(r.key, item(r));
  for (const id of queueIds) {
    const rows = await listQueue(rt.ctx, id);
    queues.push({ department: rt.ctx.config.departments.get(id)?.name[actor.locale] ?? id, items: rows.map(item) });
    for (const r of rows) if (r.overdue) overdue.set(r.key, item(r));
  }
  const stats: HomeModel['stats'] = [];
  for (const id of depts.supervisor) {
    const figures = await departmentFigures(rt.ctx, actor, id, 7);
    if (figures === undefined) continue;
    // The title line names the scope; the home block has its own heading.
    const lines = figures.split('\n').slice(1);
    stats.push({ department: rt.ctx.config.departments.get(id)?.name[actor.locale] ?? id, line: lines.join('\n') });
  }
  return {
    locale: actor.locale,
    assigned: mine.assigned.map(item),
    requested: mine.requested.map(item),
    queues,
    overdue: [...overdue.values()],
    stats,
    updated: formatTime(rt.ctx.time.now().toISOString(), zone),
  };
}

export async function publishHome(rt: SlackRuntime, actor: Actor): Promise<void> {
  try {
    await rt.client.views.publish({ user_id: actor.slackUserId, view: homeView(await buildHome(rt, actor)) as never });
  } catch (err) {
    rt.logger.warn({ err: describeSlackError(err) }, 'Slack: could not publish App Home');
  }
}
