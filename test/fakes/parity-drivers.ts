import { parseConfigText } from '../../src/config/load';
import type { Config } from '../../src/config/model';
import type { AppContext } from '../../src/app/context';
import { ACTION, BLOCK } from '../../src/slack/ids';
import type { Storage } from '../../src/storage/database';
import { ensureUser } from '../../src/app/users';
import { cardText, FeishuHarness, findControl, TENANT } from './feishu-harness';
import { blockText, SlackHarness } from './slack-harness';

/**
 * One person per role, on each platform. The parity suite and the permission matrix speak of
 * roles; each driver turns them into that platform's users and real signed requests to its fake.
 */
export const PEOPLE = ['requester', 'member', 'member2', 'financeMember', 'supervisor', 'otherSupervisor', 'admin', 'outsider'] as const;
export type Person = (typeof PEOPLE)[number];

const SLACK_IDS: Record<Person, string> = {
  requester: 'UREQ',
  member: 'UIT1',
  member2: 'UIT2',
  financeMember: 'UFIN1',
  supervisor: 'UBOSS',
  otherSupervisor: 'UFINBOSS',
  admin: 'UADMIN',
  outsider: 'UOUT',
};
const FEISHU_IDS: Record<Person, string> = {
  requester: 'ou_req',
  member: 'ou_a1',
  member2: 'ou_a2',
  financeMember: 'ou_f1',
  supervisor: 'ou_boss',
  otherSupervisor: 'ou_finboss',
  admin: 'ou_admin',
  outsider: 'ou_out',
};

/** The same company on either platform: only the user references and chat ids differ. */
/** `extra`: more top-level YAML (e.g. `rules:`), given the platform's user reference of a person. */
export function parityConfig(platform: 'slack' | 'feishu', extra?: (ref: (p: Person) => string) => string): Config {
  const ids = platform === 'slack' ? SLACK_IDS : FEISHU_IDS;
  const ref = (p: Person) => `${platform}:${ids[p]}`;
  const where = (slack: string, feishu: string) => `channels: { ${platform}: ${platform === 'slack' ? slack : feishu} }`;
  const text = `
locale: en
admins: [${ref('admin')}]
calendars:
  office:
    timezone: Asia/Shanghai
    week: { mon-sun: ["00:00-24:00"] }
departments:
  - id: it
    name: { en: IT, zh-CN: 信息技术部 }
    ${where('C0IT', 'oc_help')}
    members: [${ref('member')}, ${ref('member2')}]
    supervisors: [${ref('supervisor')}]
    calendar: office
    routing: { strategy: claim }
    handoff: { accept: 30m, resolve: 1d }
  - id: finance
    name: { en: Finance, zh-CN: 财务部 }
    key_prefix: FIN
    ${where('C0FIN', 'oc_fin')}
    members: [${ref('financeMember')}]
    supervisors: [${ref('otherSupervisor')}]
    calendar: office
    routing: { strategy: claim }
    handoff: { accept: 1h, resolve: 2d }
fields:
  - { id: order_id, name: { en: Order ID, zh-CN: 订单号 } }
categories:
  - id: inquiry
    name: { en: Inquiry, zh-CN: 咨询类 }
    department: it
    children:
      - id: how-to
        name: { en: How to, zh-CN: 使用方法 }
  - id: after-sales
    name: { en: After-sales, zh-CN: 售后类 }
    department: finance
    children:
      - { id: refund-request, name: { en: Refund request, zh-CN: 申请退款 }, required: [order_id] }
sla:
  - { id: normal, first_response: 4h, resolution: 3d }
escalation:
  - { at: 100%, notify: [department_channel, supervisors] }
closing: { confirm_within: 1d, auto_close: true, survey: true }
intake: { default_category: how-to, default_priority: normal }
return_reasons:
  - { id: wrong-department, name: { en: Wrong department, zh-CN: 分派错误 } }
${extra ? extra(ref) : ''}
`;
  const parsed = parseConfigText(text);
  if (!parsed.ok) throw new Error(parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
  return parsed.config;
}

/** What a person saw privately, and what was said where others can read it, during one step. */
export interface Seen {
  private: string;
  public: string;
}

export interface ParityDriver {
  readonly platform: 'slack' | 'feishu';
  readonly ctx: AppContext;
  readonly storage: Storage;
  /** Our user id of a person (after they have acted once). */
  userId(who: Person): string;
  /** A platform user id back to the role (for comparing databases). */
  personOf(userId: string | null): string;
  command(who: Person, text: string, where?: 'dm' | 'group'): Promise<Seen>;
  /** A plain message straight to the bot. */
  dm(who: Person, text: string): Promise<Seen>;
  /** Taps option `index` of the last "which ticket?" question the person got. */
  chooseTicket(who: Person, index: number): Promise<Seen>;
  claim(who: Person, key: string): Promise<Seen>;
  /** A reply in the ticket card's thread in the department's channel (an internal note). */
  note(who: Person, key: string, text: string): Promise<Seen>;
  /** Returns the current leg with a listed reason, through the return form on the leg's card. */
  returnLeg(who: Person, key: string, reasonId: string): Promise<Seen>;
  /** Presses the button that opens a form for `form` on the ticket card; true when a form reached the presser. */
  openForm(who: Person, key: string, form: 'reply' | 'hand_off' | 'resolve'): Promise<{ opened: boolean; seen: Seen }>;
  /**
   * Opens a form from the ticket's card in a department's channel and submits it, through the
   * platform (Slack: button → modal → view submission; Feishu: button → form card → form submit).
   * Values under the neutral names of src/chat/forms.ts (body, department, reason, note).
   */
  form(who: Person, key: string, form: 'reply' | 'request_info' | 'hand_off' | 'resolve', values: Record<string, string>, department?: 'it' | 'finance'): Promise<Seen>;
  /** The requester taps "Yes, fixed" / "Not yet" on the last resolution notice they got. */
  answerResolved(who: Person, answer: 'confirm' | 'reopen'): Promise<Seen>;
  /** The requester gives the survey a score (1–5). */
  rate(who: Person, score: number): Promise<Seen>;
  /** The requester writes in their thread of the ticket (their answer to the desk). */
  threadReply(who: Person, key: string, text: string): Promise<Seen>;
  /** Whether the ticket's card in a department's channel offers buttons. */
  cardHasButtons(key: string, department: 'it' | 'finance'): boolean;
  /** The text of the ticket's card in a department's channel. */
  cardText(key: string, department: 'it' | 'finance'): string;
  /** Sends outbox rows of this platform. */
  deliver(): Promise<void>;
  /** Everything a person received privately so far (DMs, ephemerals, command answers). */
  everythingSeenBy(who: Person): string;
  /** Everything said in the group where commands were typed. */
  groupText(): string;
  stop(): Promise<void>;
}

const GROUP_SLACK = 'C0GEN';

/** The message that roots the requester's thread of a ticket on a platform. */
async function requesterThread(d: { storage: Storage }, platform: string, key: string): Promise<{ channel: string; messageId: string }> {
  const db = d.storage.db;
  const ticket = await db.selectFrom('tickets').select('id').where('key', '=', key).executeTakeFirstOrThrow();
  const link = await db.selectFrom('chat_links').select(['channel', 'message_id']).where('platform', '=', platform).where('ticket_id', '=', ticket.id).where('role', '=', 'requester_thread').orderBy('created_at', 'desc').executeTakeFirst();
  if (!link) throw new Error(`no requester thread of ${key}`);
  return { channel: link.channel, messageId: link.message_id };
}
const GROUP_FEISHU = 'oc_gen';

export class SlackParity implements ParityDriver {
  readonly platform = 'slack' as const;
  private seenBy = new Map<Person, string[]>();
  private constructor(readonly h: SlackHarness) {}

  static async start(storage?: Storage, extra?: Parameters<typeof parityConfig>[1]): Promise<SlackParity> {
    const h = await SlackHarness.start({ config: parityConfig('slack', extra), ...(storage ? { storage } : {}) });
    // Everyone is known, as after their first message (set-ups below act through the core).
    for (const p of PEOPLE) await ensureUser(h.ctx, { platform: 'slack', workspace: h.fake.teamId, platformUserId: SLACK_IDS[p] });
    return new SlackParity(h);
  }
  get ctx(): AppContext {
    return this.h.ctx;
  }
  get storage(): Storage {
    return this.h.storage;
  }
  userId(who: Person): string {
    return `slack:${SLACK_IDS[who]}`;
  }
  personOf(userId: string | null): string {
    if (userId === null) return '-';
    const found = PEOPLE.find((p) => this.userId(p) === userId);
    return found ?? userId;
  }

  /** Runs a step and collects, from the fake's records, what the person saw privately and what went public. */
  private async observe(who: Person, step: () => Promise<unknown>): Promise<Seen> {
    const u = SLACK_IDS[who];
    const calls = this.h.fake.calls.length;
    const responses = this.h.fake.responses.length;
    await step();
    const newCalls = this.h.fake.calls.slice(calls);
    const priv: string[] = [];
    const pub: string[] = [];
    const text = (a: Record<string, any>) => [a.text ?? '', blockText(a.blocks ?? [])].join('\n');
    for (const c of newCalls) {
      if (c.method === 'chat.postEphemeral') (c.args.user === u ? priv : pub).push(text(c.args));
      else if (c.method === 'chat.update' && String(c.args.channel) === `D${u}`) priv.push(text(c.args));
      else if (c.method === 'chat.postMessage') {
        const ch = String(c.args.channel);
        if (ch === u || ch === `D${u}`) priv.push(text(c.args));
        else if (ch === GROUP_SLACK) pub.push(text(c.args));
      } else if (c.method === 'views.open') priv.push(`[form] ${blockText((c.args.view as Record<string, unknown>)?.blocks ?? [])}`);
    }
    for (const r of this.h.fake.responses.slice(responses)) {
      const body = r.body as Record<string, any>;
      (body.response_type === 'in_channel' ? pub : priv).push(text(body));
    }
    this.seenBy.set(who, [...(this.seenBy.get(who) ?? []), ...priv]);
    return { private: priv.join('\n'), public: pub.join('\n') };
  }

  command(who: Person, text: string, where: 'dm' | 'group' = 'group'): Promise<Seen> {
    return this.observe(who, () => this.h.command(SLACK_IDS[who], text, { channel: where === 'group' ? GROUP_SLACK : `D${SLACK_IDS[who]}` }));
  }
  dm(who: Person, text: string): Promise<Seen> {
    return this.observe(who, () => this.h.say(SLACK_IDS[who], `D${SLACK_IDS[who]}`, text));
  }
  async chooseTicket(who: Person, index: number): Promise<Seen> {
    const u = SLACK_IDS[who];
    const asked = [...this.h.fake.calls].reverse().find((c) => (c.method === 'chat.postMessage' || c.method === 'chat.postEphemeral') && JSON.stringify(c.args.blocks ?? []).includes(ACTION.which));
    if (!asked) throw new Error('no "which ticket?" question was asked');
    const button = (asked.args.blocks as any[]).flatMap((b) => b.elements ?? []).find((e: any) => e.action_id === `${ACTION.which}_${index}`);
    const posted = this.h.fake.messagesIn(`D${u}`).at(-1);
    return this.observe(who, () => this.h.press(u, button.action_id, button.value, { channel: `D${u}`, ts: posted?.ts ?? '1.1', blocks: asked.args.blocks as unknown[] }));
  }
  private card(key: string, channel = 'C0IT') {
    const card = this.h.cardIn(channel, key);
    if (!card) throw new Error(`no card of ${key} in ${channel}`);
    return card;
  }
  private buttonValue(blocks: unknown, actionId: string): string | undefined {
    let found: string | undefined;
    const walk = (v: unknown): void => {
      if (found !== undefined) return;
      if (Array.isArray(v)) v.forEach(walk);
      else if (v && typeof v === 'object') {
        const o = v as Record<string, unknown>;
        if (o.action_id === actionId && typeof o.value === 'string') found = o.value;
        else Object.values(o).forEach(walk);
      }
    };
    walk(blocks);
    return found;
  }
  claim(who: Person, key: string): Promise<Seen> {
    const card = this.card(key);
    return this.observe(who, () => this.h.press(SLACK_IDS[who], ACTION.claim, this.buttonValue(card.blocks, ACTION.claim) ?? '', { channel: card.channel, ts: card.ts, blocks: card.blocks }));
  }
  note(who: Person, key: string, text: string): Promise<Seen> {
    const card = this.card(key);
    return this.observe(who, () => this.h.say(SLACK_IDS[who], card.channel, text, { threadTs: card.ts }));
  }
  async returnLeg(who: Person, key: string, reasonId: string): Promise<Seen> {
    const card = this.card(key, 'C0FIN');
    const value = this.buttonValue(card.blocks, ACTION.return);
    if (!value) throw new Error(`the card of ${key} offers no return`);
    return this.observe(who, async () => {
      await this.h.press(SLACK_IDS[who], ACTION.return, value, { channel: card.channel, ts: card.ts, blocks: card.blocks });
      await this.h.submit(SLACK_IDS[who], this.h.lastView(), { [BLOCK.reasonChoice]: reasonId });
    });
  }
  async openForm(who: Person, key: string, form: 'reply' | 'hand_off' | 'resolve'): Promise<{ opened: boolean; seen: Seen }> {
    const card = this.card(key);
    const actionId = form === 'reply' ? ACTION.reply : form === 'hand_off' ? ACTION.handOff : ACTION.resolve;
    const value = this.buttonValue(card.blocks, actionId) ?? '';
    const views = this.h.fake.views.size;
    const seen = await this.observe(who, () => this.h.press(SLACK_IDS[who], actionId, value, { channel: card.channel, ts: card.ts, blocks: card.blocks }));
    return { opened: this.h.fake.views.size > views, seen };
  }
  async form(who: Person, key: string, form: 'reply' | 'request_info' | 'hand_off' | 'resolve', values: Record<string, string>, department: 'it' | 'finance' = 'it'): Promise<Seen> {
    const u = SLACK_IDS[who];
    const card = this.card(key, department === 'it' ? 'C0IT' : 'C0FIN');
    const ticketId = (this.buttonValue(card.blocks, ACTION.reply) ?? this.buttonValue(card.blocks, ACTION.claim) ?? '').split(':')[0]!;
    const block: Record<string, string> = { body: BLOCK.message, department: BLOCK.target, reason: BLOCK.reason, note: BLOCK.note };
    const answers = Object.fromEntries(Object.entries(values).map(([k, v]) => [block[k] ?? k, v]));
    return this.observe(who, async () => {
      const views = this.h.fake.views.size;
      if (form === 'request_info') await this.h.press(u, ACTION.menu, '', { channel: card.channel, ts: card.ts, blocks: card.blocks }, { selected: `request_info:${ticketId}` });
      else await this.h.press(u, form === 'reply' ? ACTION.reply : form === 'hand_off' ? ACTION.handOff : ACTION.resolve, this.buttonValue(card.blocks, form === 'reply' ? ACTION.reply : form === 'hand_off' ? ACTION.handOff : ACTION.resolve) ?? ticketId, { channel: card.channel, ts: card.ts, blocks: card.blocks });
      if (this.h.fake.views.size === views) return;
      await this.h.submit(u, this.h.lastView(), answers);
    });
  }
  private lastDmWith(who: Person, actionId: string) {
    const m = [...this.h.fake.messagesIn(`D${SLACK_IDS[who]}`)].reverse().find((x) => JSON.stringify(x.blocks ?? []).includes(`"action_id":"${actionId}"`));
    if (!m) throw new Error(`${who} got no message with ${actionId}`);
    return m;
  }
  answerResolved(who: Person, answer: 'confirm' | 'reopen'): Promise<Seen> {
    const actionId = answer === 'confirm' ? ACTION.confirm : ACTION.reopen;
    const m = this.lastDmWith(who, actionId);
    return this.observe(who, () => this.h.press(SLACK_IDS[who], actionId, this.buttonValue(m.blocks, actionId)!, { channel: m.channel, ts: m.ts, blocks: m.blocks }));
  }
  rate(who: Person, score: number): Promise<Seen> {
    const actionId = `${ACTION.rate}_${score}`;
    const m = this.lastDmWith(who, actionId);
    return this.observe(who, () => this.h.press(SLACK_IDS[who], actionId, this.buttonValue(m.blocks, actionId)!, { channel: m.channel, ts: m.ts, blocks: m.blocks }));
  }
  async threadReply(who: Person, key: string, text: string): Promise<Seen> {
    const root = await requesterThread(this, 'slack', key);
    return this.observe(who, () => this.h.say(SLACK_IDS[who], root.channel, text, { threadTs: root.messageId }));
  }
  cardText(key: string, department: 'it' | 'finance'): string {
    return blockText(this.card(key, department === 'it' ? 'C0IT' : 'C0FIN').blocks ?? []);
  }
  cardHasButtons(key: string, department: 'it' | 'finance'): boolean {
    const card = this.card(key, department === 'it' ? 'C0IT' : 'C0FIN');
    return JSON.stringify(card.blocks ?? []).includes('"action_id":"tb_');
  }
  async deliver(): Promise<void> {
    await this.h.deliver();
  }
  everythingSeenBy(who: Person): string {
    const u = SLACK_IDS[who];
    const dms = this.h.fake.messagesIn(`D${u}`).map((m) => `${m.text ?? ''}\n${blockText(m.blocks ?? [])}`);
    return [...(this.seenBy.get(who) ?? []), ...dms].join('\n');
  }
  groupText(): string {
    return this.h.fake.messagesIn(GROUP_SLACK).map((m) => `${m.text ?? ''}\n${blockText(m.blocks ?? [])}`).join('\n');
  }
  stop(): Promise<void> {
    return this.h.stop();
  }
}

export class FeishuParity implements ParityDriver {
  readonly platform = 'feishu' as const;
  private constructor(readonly h: FeishuHarness) {}

  static async start(storage?: Storage, extra?: Parameters<typeof parityConfig>[1]): Promise<FeishuParity> {
    const h = await FeishuHarness.start({ config: parityConfig('feishu', extra), locale: 'en', ...(storage ? { storage } : {}) });
    h.fake.addUser({ open_id: 'ou_finboss', name: 'Finboss', email: 'ou_finboss@example.com' });
    h.fake.addUser({ open_id: 'ou_admin', name: 'Ada', email: 'ou_admin@example.com' });
    for (const p of PEOPLE) await ensureUser(h.ctx, { platform: 'feishu', workspace: TENANT, platformUserId: FEISHU_IDS[p] });
    return new FeishuParity(h);
  }
  get ctx(): AppContext {
    return this.h.ctx;
  }
  get storage(): Storage {
    return this.h.storage;
  }
  userId(who: Person): string {
    return `feishu:${FEISHU_IDS[who]}`;
  }
  personOf(userId: string | null): string {
    if (userId === null) return '-';
    return PEOPLE.find((p) => this.userId(p) === userId) ?? userId;
  }
  private text(m: { msg_type: string }): string {
    const parsed = this.h.fake.parsed(m as never);
    return m.msg_type === 'text' ? String((parsed as { text?: unknown }).text ?? '') : cardText(parsed);
  }
  private async observe(who: Person, step: () => Promise<unknown>): Promise<Seen> {
    const p2p = this.h.fake.p2pChatOf(FEISHU_IDS[who]);
    const before = this.h.fake.messagesIn(p2p).length;
    const group = this.h.fake.messagesIn(GROUP_FEISHU).length;
    let toast = '';
    const res = (await step()) as { body?: { toast?: { content?: string } } } | undefined;
    if (res?.body?.toast?.content) toast = res.body.toast.content;
    const priv = this.h.fake.messagesIn(p2p).slice(before).map((m) => this.text(m));
    const pub = this.h.fake.messagesIn(GROUP_FEISHU).slice(group).map((m) => this.text(m));
    return { private: [toast, ...priv].filter(Boolean).join('\n'), public: pub.join('\n') };
  }
  command(who: Person, text: string, where: 'dm' | 'group' = 'group'): Promise<Seen> {
    return this.observe(who, () => this.h.say(FEISHU_IDS[who], `/ticket ${text}`, where === 'group' ? { chatId: GROUP_FEISHU, mentionBot: true } : {}));
  }
  dm(who: Person, text: string): Promise<Seen> {
    return this.observe(who, () => this.h.say(FEISHU_IDS[who], text));
  }
  async chooseTicket(who: Person, index: number): Promise<Seen> {
    const p2p = this.h.fake.p2pChatOf(FEISHU_IDS[who]);
    const asked = [...this.h.fake.messagesIn(p2p)].reverse().find((m) => findControl(this.h.fake.parsed(m), (v) => v.a === 'which'));
    if (!asked) throw new Error('no "which ticket?" question was asked');
    const values: Record<string, unknown>[] = [];
    findControl(this.h.fake.parsed(asked), (v) => {
      if (v.a === 'which') values.push(v);
      return false;
    });
    return this.observe(who, () => this.h.click(FEISHU_IDS[who], asked.message_id, values[index]));
  }
  private card(key: string, chat = 'oc_help') {
    const card = this.h.fake.messagesIn(chat).find((m) => m.msg_type === 'interactive' && cardText(this.h.fake.parsed(m)).includes(key));
    if (!card) throw new Error(`no card of ${key} in ${chat}`);
    return card;
  }
  claim(who: Person, key: string): Promise<Seen> {
    const card = this.card(key);
    const value = findControl(this.h.fake.parsed(card), (v) => v.a === 'claim');
    return this.observe(who, () => this.h.click(FEISHU_IDS[who], card.message_id, value));
  }
  note(who: Person, key: string, text: string): Promise<Seen> {
    const card = this.card(key);
    return this.observe(who, () => this.h.say(FEISHU_IDS[who], text, { chatId: card.chat_id, rootId: card.message_id }));
  }
  async returnLeg(who: Person, key: string, reasonId: string): Promise<Seen> {
    const card = this.card(key, 'oc_fin');
    const open = findControl(this.h.fake.parsed(card), (v) => v.a === 'form' && v.f === 'return');
    if (!open) throw new Error(`the card of ${key} offers no return`);
    return this.observe(who, async () => {
      await this.h.click(FEISHU_IDS[who], card.message_id, open);
      const form = this.h.fake.messagesIn(this.h.fake.p2pChatOf(FEISHU_IDS[who])).at(-1)!;
      const submit = findControl(this.h.fake.parsed(form), (v) => v.a === 'submit');
      return this.h.click(FEISHU_IDS[who], form.message_id, submit, { formValue: { reason_id: reasonId, reason: '', note: '' } });
    });
  }
  async openForm(who: Person, key: string, form: 'reply' | 'hand_off' | 'resolve'): Promise<{ opened: boolean; seen: Seen }> {
    const card = this.card(key);
    const value = findControl(this.h.fake.parsed(card), (v) => v.a === 'form' && v.f === form) ?? { a: 'form', f: form, t: key };
    const p2p = this.h.fake.p2pChatOf(FEISHU_IDS[who]);
    const before = this.h.fake.messagesIn(p2p).length;
    const seen = await this.observe(who, () => this.h.click(FEISHU_IDS[who], card.message_id, value));
    const opened = this.h.fake.messagesIn(p2p).slice(before).some((m) => findControl(this.h.fake.parsed(m), (v) => v.a === 'submit') !== undefined);
    return { opened, seen };
  }
  async form(who: Person, key: string, form: 'reply' | 'request_info' | 'hand_off' | 'resolve', values: Record<string, string>, department: 'it' | 'finance' = 'it'): Promise<Seen> {
    const o = FEISHU_IDS[who];
    const card = this.card(key, department === 'it' ? 'oc_help' : 'oc_fin');
    const any = findControl(this.h.fake.parsed(card), (v) => typeof v.t === 'string') as { t: string } | undefined;
    // Request info has no button on a Feishu card: its form control is sent like the others would be.
    const open = findControl(this.h.fake.parsed(card), (v) => v.a === 'form' && v.f === form) ?? { a: 'form', f: form, t: any?.t ?? key };
    return this.observe(who, async () => {
      const p2p = this.h.fake.p2pChatOf(o);
      const before = this.h.fake.messagesIn(p2p).length;
      await this.h.click(o, card.message_id, open);
      const sent = this.h.fake.messagesIn(p2p).slice(before).find((m) => findControl(this.h.fake.parsed(m), (v) => v.a === 'submit'));
      if (!sent) return undefined;
      const submit = findControl(this.h.fake.parsed(sent), (v) => v.a === 'submit');
      return this.h.click(o, sent.message_id, submit, { formValue: values });
    });
  }
  private lastDmWith(who: Person, test: (v: Record<string, unknown>) => boolean) {
    const m = [...this.h.fake.messagesIn(this.h.fake.p2pChatOf(FEISHU_IDS[who]))].reverse().find((x) => findControl(this.h.fake.parsed(x), test));
    if (!m) throw new Error(`${who} got no such message`);
    return { m, value: findControl(this.h.fake.parsed(m), test) };
  }
  answerResolved(who: Person, answer: 'confirm' | 'reopen'): Promise<Seen> {
    const { m, value } = this.lastDmWith(who, (v) => v.a === answer);
    return this.observe(who, () => this.h.click(FEISHU_IDS[who], m.message_id, value));
  }
  rate(who: Person, score: number): Promise<Seen> {
    const { m, value } = this.lastDmWith(who, (v) => v.a === 'submit' && (v.f === 'survey' || v.f === 'rate'));
    return this.observe(who, () => this.h.click(FEISHU_IDS[who], m.message_id, value, { formValue: { score: String(score) } }));
  }
  async threadReply(who: Person, key: string, text: string): Promise<Seen> {
    const root = await requesterThread(this, 'feishu', key);
    return this.observe(who, () => this.h.say(FEISHU_IDS[who], text, { chatId: root.channel, rootId: root.messageId }));
  }
  cardText(key: string, department: 'it' | 'finance'): string {
    return cardText(this.h.fake.parsed(this.card(key, department === 'it' ? 'oc_help' : 'oc_fin')));
  }
  cardHasButtons(key: string, department: 'it' | 'finance'): boolean {
    const card = this.card(key, department === 'it' ? 'oc_help' : 'oc_fin');
    return findControl(this.h.fake.parsed(card), () => true) !== undefined;
  }
  async deliver(): Promise<void> {
    await this.h.flush();
  }
  everythingSeenBy(who: Person): string {
    return this.h.fake.messagesIn(this.h.fake.p2pChatOf(FEISHU_IDS[who])).map((m) => this.text(m)).join('\n');
  }
  groupText(): string {
    return this.h.fake.messagesIn(GROUP_FEISHU).map((m) => this.text(m)).join('\n');
  }
  stop(): Promise<void> {
    return this.h.stop();
  }
}

/** The database as the parity suite compares it: people as roles, no ids, times or platform references. */
export async function snapshot(d: ParityDriver): Promise<Record<string, unknown>> {
  const db = d.storage.db;
  const tickets = await db.selectFrom('tickets').selectAll().orderBy('key').execute();
  const keyOf = new Map(tickets.map((t) => [t.id, t.key]));
  const legs = await db.selectFrom('legs').selectAll().orderBy('ticket_id').orderBy('seq').execute();
  const audit = await db.selectFrom('audit_events').selectAll().orderBy('at').orderBy('id').execute();
  const messages = await db.selectFrom('messages').selectAll().orderBy('created_at').orderBy('id').execute();
  const feedback = await db.selectFrom('feedback').selectAll().orderBy('created_at').execute();
  const surveys = await db.selectFrom('surveys').selectAll().execute();
  return {
    tickets: tickets.map((t) => ({ key: t.key, title: t.title, state: t.state, priority: t.priority, department: t.department_id, category: t.category_id, requester: d.personOf(t.requester_id), assignee: d.personOf(t.assignee_id) })),
    legs: legs.map((l) => ({ ticket: keyOf.get(l.ticket_id), seq: l.seq, department: l.department_id, state: l.state, returnReason: l.return_reason })),
    audit: audit.map((a) => ({ ticket: keyOf.get(a.ticket_id), action: a.action, from: a.from_state, to: a.to_state, actor: d.personOf(a.actor_id), reason: a.reason })),
    messages: messages.map((m) => ({ ticket: keyOf.get(m.ticket_id), visibility: m.visibility, author: d.personOf(m.author_id), role: m.author_role, body: m.body })),
    feedback: feedback.map((f) => ({ user: d.personOf(f.user_id), department: f.department_id, text: f.text })),
    surveys: surveys.map((x) => ({ ticket: keyOf.get(x.ticket_id), score: x.score, comment: x.comment })),
  };
}
