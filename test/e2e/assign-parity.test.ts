import { findControl } from '../fakes/feishu-harness';
import { FeishuParity, SlackParity, type ParityDriver, type Person } from '../fakes/parity-drivers';
import { ACTION, BLOCK } from '../../src/slack/ids';
import { storageVariants, type StorageVariant } from '../support/storage';

/**
 * Assign (issue 14 follow-up): both platforms offer the same list, the department's members
 * (src/app/candidates.ts), and assigning picks from it. Slack used to show users_select (anyone in
 * the workspace) while Feishu listed the members.
 */

/** Opens Assign on the ticket's card in IT's channel as `who`; the people offered (by role, in order) and a submit. */
interface Opened {
  offered: string[];
  pick(person: Person): Promise<void>;
}

async function openAssignSlack(d: SlackParity, who: Person, key: string): Promise<Opened> {
  const h = d.h;
  const card = h.cardIn('C0IT', key);
  if (!card) throw new Error(`no card of ${key}`);
  const value = findButton(card.blocks, ACTION.assign);
  if (value === undefined) throw new Error('the card offers no assign');
  const u = slackId(d, who);
  const views = h.fake.views.size;
  await h.press(u, ACTION.assign, value, { channel: card.channel, ts: card.ts, blocks: card.blocks });
  if (h.fake.views.size === views) throw new Error('no assign modal opened');
  const view = h.lastView();
  const block = (view.view.blocks as Array<Record<string, any>>).find((b) => b.block_id === BLOCK.assignee);
  const el = block?.element as { type: string; options?: Array<{ value: string }>; option_groups?: Array<{ options: Array<{ value: string }> }> } | undefined;
  if (el && el.type !== 'static_select') throw new Error(`assign offers a ${el.type}`);
  const values = el ? (el.options ?? el.option_groups!.flatMap((g) => g.options)).map((o) => o.value) : [];
  return {
    offered: values.map((v) => d.personOf(v)),
    pick: async (person) => {
      await h.submit(u, view, { [BLOCK.assignee]: d.userId(person) });
    },
  };
}

async function openAssignFeishu(d: FeishuParity, who: Person, key: string): Promise<Opened> {
  const h = d.h;
  const card = h.fake.messagesIn('oc_help').find((m) => m.msg_type === 'interactive' && JSON.stringify(h.fake.parsed(m)).includes(key));
  if (!card) throw new Error(`no card of ${key}`);
  const open = findControl(h.fake.parsed(card), (v) => v.a === 'form' && v.f === 'assign');
  if (!open) throw new Error('the card offers no assign');
  const o = feishuId(d, who);
  const p2p = h.fake.p2pChatOf(o);
  const before = h.fake.messagesIn(p2p).length;
  await h.click(o, card.message_id, open);
  const form = h.fake.messagesIn(p2p).slice(before).find((m) => JSON.stringify(h.fake.parsed(m)).includes('"assignee"'));
  const values: string[] = [];
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!n || typeof n !== 'object') return;
    const obj = n as Record<string, unknown>;
    if (obj.tag === 'select_static' && obj.name === 'assignee') for (const op of obj.options as Array<{ value: string }>) values.push(op.value);
    else Object.values(obj).forEach(walk);
  };
  if (form) walk(h.fake.parsed(form));
  return {
    offered: values.map((v) => d.personOf(v)),
    pick: async (person) => {
      const submit = findControl(h.fake.parsed(form!), (v) => v.a === 'submit');
      await h.click(o, form!.message_id, submit, { formValue: { assignee: d.userId(person) } });
    },
  };
}

function findButton(blocks: unknown, actionId: string): string | undefined {
  let found: string | undefined;
  const walk = (v: unknown): void => {
    if (found !== undefined || !v || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach(walk);
    const o = v as Record<string, unknown>;
    if (o.action_id === actionId && typeof o.value === 'string') found = o.value;
    else Object.values(o).forEach(walk);
  };
  walk(blocks);
  return found;
}
const slackId = (d: ParityDriver, who: Person) => d.userId(who).slice('slack:'.length);
const feishuId = (d: ParityDriver, who: Person) => d.userId(who).slice('feishu:'.length);

describe.each(storageVariants())('Assign lists the department members on both platforms ($name)', (variant: StorageVariant) => {
  const results: Record<string, { offered: string[]; assignee: string; audit: string[] }> = {};

  it.each([
    ['slack', async (s: StorageVariant) => SlackParity.start(await s.open())],
    ['feishu', async (s: StorageVariant) => FeishuParity.start(await s.open())],
  ] as const)('%s: the supervisor assigns from the members of IT', async (platform, start) => {
    const d = await start(variant);
    try {
      await d.command('requester', 'Printer on floor 3 jams');
      await d.deliver();
      const opened = platform === 'slack' ? await openAssignSlack(d as SlackParity, 'supervisor', 'IT-1001') : await openAssignFeishu(d as FeishuParity, 'supervisor', 'IT-1001');
      expect(opened.offered).toEqual(['member', 'member2']);
      await opened.pick('member2');
      const row = await d.storage.db.selectFrom('tickets').select(['assignee_id', 'state']).where('key', '=', 'IT-1001').executeTakeFirstOrThrow();
      expect(row.state).toBe('assigned');
      const audit = await d.storage.db.selectFrom('audit_events').select(['action', 'actor_id']).orderBy('at').orderBy('id').execute();
      results[platform] = { offered: opened.offered, assignee: d.personOf(row.assignee_id), audit: audit.map((a) => `${a.action} by ${d.personOf(a.actor_id)}`) };
      expect(results[platform]!.assignee).toBe('member2');
    } finally {
      await d.stop();
    }
  });

  it('both platforms offered the same list and recorded the same assignment', () => {
    expect(results.slack).toBeDefined();
    expect(results.slack).toEqual(results.feishu);
  });
});
