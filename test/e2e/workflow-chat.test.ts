import { t } from '../../src/chat/i18n';
import { ACTION, BLOCK } from '../../src/slack/ids';
import { cardText, findControl, TENANT } from '../fakes/feishu-harness';
import { FeishuParity, SlackParity, type ParityDriver, type Person, type Seen } from '../fakes/parity-drivers';
import { storageVariants, type StorageVariant } from '../support/storage';

/**
 * Issue 17 in chat (src/chat/workflow-actions.ts), the same on Slack and Feishu (real signed
 * requests to each fake), on SQLite and PostgreSQL: the card's History, Escalate…, Edit… and
 * Change category… buttons, `/ticket show KEY --history` and `/ticket escalate KEY <reason>`.
 * Each scenario returns what it observed, which must be equal on both platforms.
 */

type WorkflowButton = 'history' | 'edit' | 'recategorise' | 'escalate';

/** The platform half the parity drivers do not have: the card's second row and its forms. */
interface Workflow {
  /** Presses a workflow button on the ticket's card in a department's channel. */
  press(who: Person, key: string, button: WorkflowButton, department?: 'it' | 'finance'): Promise<Seen>;
  /** Submits the form the person has open (values by neutral name); true when another form replaced it. */
  submit(who: Person, values: Record<string, string>): Promise<{ followUp: boolean }>;
  /** Walks the Change category… form's cascading selects. */
  pick(who: Person, path: string[]): Promise<void>;
  /** What the last refused submission said (Slack: the modal's field error; Feishu: the toast). */
  lastRefusal(): string;
  /** The labels of the buttons of the last card the person was shown privately. */
  lastPrivateCardButtons(who: Person): string[];
}

const SLACK_IDS: Record<string, string> = { requester: 'UREQ', member: 'UIT1', member2: 'UIT2', financeMember: 'UFIN1', supervisor: 'UBOSS', outsider: 'UOUT' };
const FEISHU_IDS: Record<string, string> = { requester: 'ou_req', member: 'ou_a1', member2: 'ou_a2', financeMember: 'ou_f1', supervisor: 'ou_boss', outsider: 'ou_out' };

function slackWorkflow(d: SlackParity): Workflow {
  const h = d.h;
  const ids: Record<WorkflowButton, string> = { history: ACTION.history, edit: ACTION.edit, recategorise: ACTION.recategorise, escalate: ACTION.escalate };
  const blockOf: Record<string, string> = { reason: BLOCK.reason, priority: BLOCK.priority, title: BLOCK.title, description: BLOCK.description };
  let pending: { id: string; hash: string; view: any } | undefined;
  let refusal = '';
  const observe = (who: Person, step: () => Promise<unknown>) => (d as unknown as { observe(w: Person, s: () => Promise<unknown>): Promise<Seen> }).observe(who, step);
  return {
    press(who, key, button, department = 'it') {
      const card = h.cardIn(department === 'it' ? 'C0IT' : 'C0FIN', key);
      if (!card) throw new Error(`no card of ${key}`);
      const el = (card.blocks as any[]).flatMap((b) => b.elements ?? []).find((e: any) => e.action_id === ids[button]);
      if (!el) return Promise.resolve({ private: '(no such button)', public: '' });
      pending = undefined;
      return observe(who, () => h.press(SLACK_IDS[who]!, ids[button], el.value, { channel: card.channel, ts: card.ts, blocks: card.blocks }));
    },
    async submit(who, values) {
      const view = pending ?? h.lastView();
      const answers: Record<string, string> = {};
      for (const [k, v] of Object.entries(values)) answers[k.startsWith('field_') ? BLOCK.field(k.slice(6)) : (blockOf[k] ?? k)] = v;
      const res = await h.submit(SLACK_IDS[who]!, view as never, answers);
      refusal = res.body?.response_action === 'errors' ? Object.values(res.body.errors as Record<string, string>).join(' ') : '';
      if (res.body?.response_action === 'update') {
        pending = { id: view.id, hash: `${view.hash}u`, view: res.body.view };
        return { followUp: true };
      }
      pending = undefined;
      return { followUp: false };
    },
    lastRefusal: () => refusal,
    async pick(who, path) {
      for (let i = 0; i < path.length; i++) {
        const view = h.lastView();
        const block = (view.view.blocks as any[]).find((b) => b.element?.action_id === `${ACTION.recategoriseCategory}_${i + 1}`);
        await h.selectInView(SLACK_IDS[who]!, view, `${ACTION.recategoriseCategory}_${i + 1}`, block.block_id, path[i]!);
      }
    },
    lastPrivateCardButtons(who) {
      const u = SLACK_IDS[who]!;
      const shown = [...h.fake.responses.map((r) => r.body as any), ...h.fake.calls.filter((c) => c.method === 'chat.postEphemeral' && c.args.user === u).map((c) => c.args as any)].filter((m) => JSON.stringify(m.blocks ?? []).includes('"type":"header"'));
      const last = shown.at(-1);
      return (last?.blocks ?? []).flatMap((b: any) => (b.type === 'actions' ? b.elements : [])).map((e: any) => e.text?.text ?? '').filter(Boolean);
    },
  };
}

function feishuWorkflow(d: FeishuParity): Workflow {
  const h = d.h;
  let current: { messageId: string; card: unknown } | undefined;
  let refusal = '';
  const observe = (who: Person, step: () => Promise<unknown>) => (d as unknown as { observe(w: Person, s: () => Promise<unknown>): Promise<Seen> }).observe(who, step);
  const lastForm = (who: Person) => {
    const m = [...h.fake.messagesIn(h.fake.p2pChatOf(FEISHU_IDS[who]!))].reverse().find((x) => findControl(h.fake.parsed(x), (v) => v.a === 'submit'));
    if (!m) throw new Error(`${who} has no form`);
    return { messageId: m.message_id, card: h.fake.parsed(m) as unknown };
  };
  return {
    press(who, key, button, department = 'it') {
      const chat = department === 'it' ? 'oc_help' : 'oc_fin';
      const card = h.fake.messagesIn(chat).find((m) => m.msg_type === 'interactive' && cardText(h.fake.parsed(m)).includes(key));
      if (!card) throw new Error(`no card of ${key}`);
      const value = findControl(h.fake.parsed(card), (v) => (button === 'history' ? v.a === 'history' : v.a === 'form' && v.f === button));
      if (!value) return Promise.resolve({ private: '(no such button)', public: '' });
      current = undefined;
      return observe(who, () => h.click(FEISHU_IDS[who]!, card.message_id, value));
    },
    async submit(who, values) {
      const form = current ?? lastForm(who);
      const submit = findControl(form.card, (v) => v.a === 'submit');
      const res = await h.click(FEISHU_IDS[who]!, form.messageId, submit, { formValue: values });
      refusal = res.body?.toast?.type === 'error' ? String(res.body.toast.content) : '';
      const next = res.body?.card?.data;
      if (next && findControl(next, (v) => v.a === 'submit')) {
        current = { messageId: form.messageId, card: next };
        return { followUp: true };
      }
      current = undefined;
      return { followUp: false };
    },
    lastRefusal: () => refusal,
    async pick(who, path) {
      current = lastForm(who);
      for (let i = 0; i < path.length; i++) {
        const select = findControl(current.card, (v) => v.a === 'rcat' && v.lvl === i + 1);
        const res = await h.click(FEISHU_IDS[who]!, current.messageId, select, { option: path[i]! });
        current = { messageId: current.messageId, card: res.body.card.data };
      }
    },
    lastPrivateCardButtons(who) {
      const m = [...h.fake.messagesIn(h.fake.p2pChatOf(FEISHU_IDS[who]!))].reverse().find((x) => x.msg_type === 'interactive' && JSON.stringify(h.fake.parsed(x)).includes('"header"'));
      const labels: string[] = [];
      const walk = (n: unknown): void => {
        if (Array.isArray(n)) return n.forEach(walk);
        if (!n || typeof n !== 'object') return;
        const o = n as Record<string, any>;
        if (o.tag === 'button' && typeof o.text?.content === 'string') labels.push(o.text.content);
        Object.values(o).forEach(walk);
      };
      walk(m ? h.fake.parsed(m) : undefined);
      return labels;
    },
  };
}

const workflowOf = (d: ParityDriver): Workflow => (d instanceof SlackParity ? slackWorkflow(d) : feishuWorkflow(d as FeishuParity));

async function raise(d: ParityDriver): Promise<void> {
  await d.command('requester', 'Printer on floor 3 jams');
  await d.deliver();
}

async function ticket(d: ParityDriver, key: string) {
  return d.storage.db.selectFrom('tickets').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
}

async function actions(d: ParityDriver, key: string): Promise<string[]> {
  const row = await ticket(d, key);
  const events = await d.storage.db.selectFrom('audit_events').select(['action']).where('ticket_id', '=', row.id).orderBy('at').orderBy('id').execute();
  return events.map((e) => e.action);
}

const publicly = (seen: Seen) => seen.public.replace(t('en', 'chat.sent_privately'), '').trim();

interface Scenario {
  name: string;
  run(d: ParityDriver, w: Workflow): Promise<Record<string, unknown>>;
  expected: Record<string, unknown>;
}

const SCENARIOS: Scenario[] = [
  {
    name: 'History: the card button and /ticket show KEY --history answer privately, permission-checked like show',
    expected: { button: true, claimedLine: true, command: true, requester: true, outsider: true, outsiderSeesNothing: true, usage: true },
    async run(d, w) {
      await raise(d);
      await d.claim('member', 'IT-1001');
      await d.deliver();
      const button = await w.press('member', 'IT-1001', 'history');
      const command = await d.command('member', 'show IT-1001 --history');
      const requester = await d.command('requester', 'show IT-1001 --history', 'dm');
      const outsider = await d.command('outsider', 'show IT-1001 --history');
      const usage = await d.command('member', 'show --history');
      for (const s of [button, command, requester, outsider]) expect(publicly(s)).toBe('');
      expect(d.groupText()).not.toContain('History of');
      return {
        button: button.private.includes('History of IT-1001') && button.private.includes('raised it'),
        claimedLine: button.private.includes('assigned it to'),
        command: command.private.includes('History of IT-1001'),
        requester: requester.private.includes('History of IT-1001'),
        outsider: outsider.private.includes('There is no ticket IT-1001 that you can see'),
        outsiderSeesNothing: !d.everythingSeenBy('outsider').includes('History of'),
        usage: usage.private.includes('--history'),
      };
    },
  },
  {
    name: 'Escalate… from the card (reason + priority raise), and /ticket escalate by the requester; an outsider is refused',
    expected: {
      priority: 'urgent',
      supervisorTold: true,
      audit: ['created', 'escalated_by_person', 'escalated_by_person'],
      requesterAnswer: true,
      outsider: true,
      usage: true,
      requesterCard: { escalate: true, edit: true, history: true, recategorise: false, claim: false },
    },
    async run(d, w) {
      await raise(d);
      await w.press('member', 'IT-1001', 'escalate');
      await w.submit('member', { reason: 'The CEO is waiting', priority: 'urgent' });
      await d.deliver();
      const requester = await d.command('requester', 'escalate IT-1001 still jammed after lunch', 'dm');
      await d.deliver();
      const outsider = await d.command('outsider', 'escalate IT-1001 me too');
      const usage = await d.command('requester', 'escalate IT-1001', 'dm');
      await d.command('requester', 'show IT-1001', 'dm');
      const labels = w.lastPrivateCardButtons('requester');
      const row = await ticket(d, 'IT-1001');
      return {
        priority: row.priority,
        supervisorTold: d.everythingSeenBy('supervisor').includes('The CEO is waiting') && d.everythingSeenBy('supervisor').includes('still jammed after lunch'),
        audit: (await actions(d, 'IT-1001')).filter((a) => a === 'created' || a === 'escalated_by_person'),
        requesterAnswer: requester.private.includes('IT-1001 escalated'),
        outsider: outsider.private.includes('Only members of the department that owns IT-1001 can do that'),
        usage: usage.private.includes('/ticket escalate IT-1042'),
        requesterCard: {
          escalate: labels.includes('Escalate…'),
          edit: labels.includes('Edit…'),
          history: labels.includes('History'),
          recategorise: labels.includes('Change category…'),
          claim: labels.includes('Claim'),
        },
      };
    },
  },
  {
    name: 'Escalate… without a reason is refused in the form, nothing changes',
    expected: { told: 'Please give a reason.', audit: ['created'], priority: 'normal' },
    async run(d, w) {
      await raise(d);
      await w.press('member', 'IT-1001', 'escalate');
      await w.submit('member', { reason: '' });
      const row = await ticket(d, 'IT-1001');
      return { told: w.lastRefusal(), audit: (await actions(d, 'IT-1001')).filter((a) => a === 'created' || a === 'escalated_by_person'), priority: row.priority };
    },
  },
  {
    name: 'Edit…: the member corrects the title and description; the card shows the new text',
    expected: { title: 'Printer on floor 4 jams', description: 'Paper tray 2', card: true, audit: true },
    async run(d, w) {
      await raise(d);
      await w.press('member', 'IT-1001', 'edit');
      await w.submit('member', { title: 'Printer on floor 4 jams', description: 'Paper tray 2' });
      await d.deliver();
      const row = await ticket(d, 'IT-1001');
      return { title: row.title, description: row.description, card: d.cardText('IT-1001', 'it').includes('Printer on floor 4 jams'), audit: (await actions(d, 'IT-1001')).includes('text_edited') };
    },
  },
  {
    name: 'Change category…: cascade to a Finance category, its required field asked in a follow-up form, then the ticket moves and Finance gets the card',
    expected: { followUp: true, done: false, category: 'refund-request', department: 'finance', field: '42', financeCard: true, itCardButtons: false, audit: true },
    async run(d, w) {
      await raise(d);
      await w.press('member', 'IT-1001', 'recategorise');
      await w.pick('member', ['after-sales', 'refund-request']);
      const first = await w.submit('member', {});
      const second = await w.submit('member', { field_order_id: '42' });
      await d.deliver();
      const row = await ticket(d, 'IT-1001');
      const field = await d.storage.db.selectFrom('ticket_fields').select('value').where('ticket_id', '=', row.id).where('field_id', '=', 'order_id').executeTakeFirst();
      return {
        followUp: first.followUp,
        done: second.followUp,
        category: row.category_id,
        department: row.department_id,
        field: field?.value,
        financeCard: d.cardText('IT-1001', 'finance').includes('Printer on floor 3 jams'),
        itCardButtons: d.cardHasButtons('IT-1001', 'it'),
        audit: (await actions(d, 'IT-1001')).includes('recategorised'),
      };
    },
  },
  {
    name: 'Change category…: the requester is not offered it on their card (History, Edit…, Escalate… are)',
    expected: { requesterOffered: false },
    async run(d, w) {
      await raise(d);
      await d.command('requester', 'show IT-1001', 'dm');
      const labels = w.lastPrivateCardButtons('requester');
      return { requesterOffered: labels.includes('Change category…') };
    },
  },
];

describe.each(storageVariants())('issue 17 in chat: history, escalate, edit, change category ($name)', (variant: StorageVariant) => {
  it.each(SCENARIOS.map((s): [string, Scenario] => [s.name, s]))('%s', async (_name, scenario) => {
    const results: Record<string, Record<string, unknown>> = {};
    for (const start of [SlackParity.start, FeishuParity.start]) {
      const d = await start(await variant.open());
      try {
        results[d.platform] = await scenario.run(d, workflowOf(d));
      } finally {
        await d.stop();
      }
    }
    expect({ platform: 'slack', ...results.slack }).toEqual({ platform: 'slack', ...scenario.expected });
    expect({ platform: 'feishu', ...results.feishu }).toEqual({ platform: 'feishu', ...scenario.expected });
  });
});


/**
 * Issue 17 item 5, first step: files reach the other side of a ticket as their names and links.
 * The requester's files in their thread reach the department's card thread (both platforms); a
 * member's files on a public reply reach the requester (Slack: the Reply… modal's file input —
 * Feishu card forms cannot carry files); an internal note's files never reach the requester.
 */
async function requesterRoot(d: ParityDriver, key: string) {
  const row = await ticket(d, key);
  return d.storage.db.selectFrom('chat_links').select(['channel', 'message_id']).where('platform', '=', d.platform).where('ticket_id', '=', row.id).where('role', '=', 'requester_thread').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
}

/** A message with one file, as each platform sends it (Slack: a file_share; Feishu: a `file` message). */
async function sayWithFile(d: ParityDriver, who: 'requester' | 'member', where: { channel: string; root: string }, text: string, file: { id: string; name: string }): Promise<void> {
  if (d instanceof SlackParity) {
    await d.h.say(SLACK_IDS[who]!, where.channel, text, { threadTs: where.root, files: [file] });
    return;
  }
  const h = (d as FeishuParity).h;
  const messageId = `om_file_${file.id}`;
  const content = JSON.stringify({ file_key: file.id, file_name: file.name });
  h.fake.addUserMessage({ message_id: messageId, chat_id: where.channel, content, msg_type: 'file', root_id: where.root, parent_id: where.root });
  await h.post(
    h.envelope('im.message.receive_v1', {
      sender: { sender_id: { open_id: FEISHU_IDS[who] }, sender_type: 'user', tenant_key: TENANT },
      message: { message_id: messageId, root_id: where.root, parent_id: where.root, chat_id: where.channel, chat_type: where.channel.startsWith('oc_p2p_') ? 'p2p' : 'group', message_type: 'file', content },
    }),
  );
}

async function cardRoot(d: ParityDriver, key: string) {
  const row = await ticket(d, key);
  const link = await d.storage.db.selectFrom('chat_links').select(['channel', 'message_id']).where('platform', '=', d.platform).where('ticket_id', '=', row.id).where('role', '=', 'card').executeTakeFirstOrThrow();
  return { channel: link.channel, root: link.message_id };
}

function threadText(d: ParityDriver, where: { channel: string; root: string }): string {
  if (d instanceof SlackParity) return d.h.fake.messages.filter((m) => m.channel === where.channel && m.thread_ts === where.root).map((m) => `${m.text ?? ''}`).join('\n');
  const h = (d as FeishuParity).h;
  return h.fake.messagesIn(where.channel).filter((m) => m.root_id === where.root || (m as { parent_id?: string }).parent_id === where.root).map((m) => JSON.stringify(h.fake.parsed(m))).join('\n');
}

describe.each(storageVariants())('issue 17 in chat: files both ways, as links ($name)', (variant: StorageVariant) => {
  it.each([['slack'], ['feishu']])('%s: the requester\'s file reaches the department; an internal note\'s file never reaches the requester', async (platform) => {
    const d = platform === 'slack' ? await SlackParity.start(await variant.open()) : await FeishuParity.start(await variant.open());
    try {
      await raise(d);
      const root = await requesterRoot(d, 'IT-1001');
      await sayWithFile(d, 'requester', { channel: root.channel, root: root.message_id }, 'here is the error', { id: 'F0SCREEN', name: 'screen-error.png' });
      await d.deliver();
      const card = await cardRoot(d, 'IT-1001');
      expect(threadText(d, card)).toContain('📎 screen-error.png');
      await sayWithFile(d, 'member', card, 'internal: the admin password', { id: 'F0SECRET', name: 'admin-passwords.xlsx' });
      await d.deliver();
      const messages = await d.storage.db.selectFrom('messages').select(['visibility', 'attachments']).execute();
      expect(messages.find((m) => m.attachments.includes('admin-passwords.xlsx'))?.visibility).toBe('internal');
      expect(d.everythingSeenBy('requester')).not.toContain('admin-passwords.xlsx');
    } finally {
      await d.stop();
    }
  });

  it('slack: files on a public reply (Reply… file input) reach the requester with their names and links', async () => {
    const d = await SlackParity.start(await variant.open());
    try {
      await raise(d);
      const card = d.h.cardIn('C0IT', 'IT-1001')!;
      const value = (card.blocks as any[]).flatMap((b) => b.elements ?? []).find((e: any) => e.action_id === ACTION.reply).value;
      await d.h.press('UIT1', ACTION.reply, value, { channel: card.channel, ts: card.ts, blocks: card.blocks });
      const res = await d.h.submit('UIT1', d.h.lastView(), { [BLOCK.message]: 'Try this driver', [BLOCK.files]: ['F0DRIVER'] });
      expect(res.body).toBeNull();
      await d.deliver();
      expect(d.everythingSeenBy('requester')).toContain('📎 F0DRIVER.png — https://files.slack.com/F0DRIVER');
    } finally {
      await d.stop();
    }
  });
});
