import { FeishuHarness, cardText, findControl } from '../fakes/feishu-harness';
import type { FakeMessage } from '../fakes/feishu-server';

/**
 * The whole ticket life in Feishu, driven the way Feishu drives the bot: signed and encrypted
 * HTTP-mode requests, answered by the fake open platform.
 */

let h: FeishuHarness;
beforeEach(async () => {
  h = await FeishuHarness.start();
});
afterEach(async () => {
  await h.stop();
});

function lastInteractive(chatId: string): FakeMessage {
  const m = h.fake.messagesIn(chatId).filter((x) => x.msg_type === 'interactive').at(-1);
  if (!m) throw new Error(`no card in ${chatId}`);
  return m;
}

function card(m: FakeMessage): Record<string, unknown> {
  return h.fake.parsed(m);
}

/** Walks the new-ticket card through its cascading selects and submits the form. */
async function raiseTicket(requester: string, path: string[], formValue: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const dm = h.fake.p2pChatOf(requester);
  const formMsg = lastInteractive(dm);
  let current: unknown = card(formMsg);
  for (let level = 1; level <= path.length; level++) {
    const select = findControl(current, (v) => v.a === 'cat' && v.lvl === level);
    expect(select).toBeDefined();
    const res = await h.click(requester, formMsg.message_id, select, { option: path[level - 1]! });
    expect(res.status).toBe(200);
    current = res.body.card.data;
  }
  const submit = findControl(current, (v) => v.a === 'submit' && v.f === 'new');
  expect(submit).toBeDefined();
  return h.click(requester, formMsg.message_id, submit, { formValue });
}

async function submitActionForm(user: string, formKind: string, formValue: Record<string, unknown>): Promise<{ status: number; body: any }> {
  const formMsg = lastInteractive(h.fake.p2pChatOf(user));
  const submit = findControl(card(formMsg), (v) => v.a === 'submit' && v.f === formKind);
  expect(submit).toBeDefined();
  return h.click(user, formMsg.message_id, submit, { formValue });
}

async function openForm(user: string, cardMsg: FakeMessage, kind: string): Promise<void> {
  const button = findControl(card(cardMsg), (v) => v.a === 'form' && v.f === kind);
  expect(button).toBeDefined();
  const res = await h.click(user, cardMsg.message_id, button);
  expect(res.body.toast.type).toBe('info');
}

async function ticketRow() {
  return h.storage.db.selectFrom('tickets').selectAll().executeTakeFirstOrThrow();
}

it('runs a ticket from /工单 to survey in zh-CN: form, card, claim, reply, note, requester reply, handoff, return, resolve, confirm, rate', async () => {
  // Raise: /工单 in the DM opens the new-ticket card; a missing required field is refused and nothing is stored.
  expect((await h.say('ou_req', '/工单')).status).toBe(200);
  const missing = await raiseTicket('ou_req', ['fault', 'login', 'no-code'], { priority: 'high', title: '收不到验证码', description: '换了手机后收不到', field_account: 'zhang3' });
  expect(missing.body.toast.type).toBe('error');
  expect(missing.body.toast.content).toContain('设备');
  expect(cardText(missing.body.card.data)).toContain('设备');
  expect(await h.count('tickets')).toBe(0);

  const created = await raiseTicket('ou_req', ['fault', 'login', 'no-code'], { priority: 'high', title: '收不到验证码', description: '换了手机后收不到', field_account: 'zhang3', field_device: 'iPhone 15' });
  expect(created.body.toast.type).toBe('success');
  expect(cardText(created.body.card.data)).toContain('HD-1001');
  await h.flush();

  // The triage card is in the department chat, shared (update_multi), in Chinese, with the buttons.
  const triage = lastInteractive('oc_help');
  const triageCard = card(triage);
  expect((triageCard.config as { update_multi: boolean }).update_multi).toBe(true);
  expect(cardText(triageCard)).toContain('HD-1001 · 收不到验证码');
  expect(cardText(triageCard)).toContain('故障类 › 登录问题 › 收不到验证码');
  expect(cardText(triageCard)).toContain('认领');
  // The requester got the number in a DM that becomes their thread.
  const requesterRoot = h.fake.messagesIn(h.fake.p2pChatOf('ou_req')).find((m) => m.msg_type === 'text' && m.content.includes('HD-1001'));
  expect(requesterRoot).toBeDefined();

  // A non-member (not in the department chat) cannot claim.
  const claim = findControl(triageCard, (v) => v.a === 'claim')!;
  const outsider = await h.click('ou_out', triage.message_id, claim);
  expect(outsider.body.toast.type).toBe('error');
  expect(outsider.body.toast.content).toContain('部门');

  // Claim; a double click is one effect; the card is patched in place.
  const first = await h.click('ou_a1', triage.message_id, claim);
  const second = await h.click('ou_a1', triage.message_id, claim);
  expect(first.body.toast.type).toBe('success');
  expect(second.body.toast.type).toBe('success');
  const claims = await h.storage.db.selectFrom('audit_events').select('id').where('action', '=', 'claimed').execute();
  expect(claims).toHaveLength(1);
  await h.flush();
  expect(triage.patches).toBeGreaterThan(0);
  expect(cardText(card(triage))).toContain('<at id=ou_a1></at>');
  expect(cardText(card(triage))).not.toContain('认领');

  // Reply… sends a form to the agent's DM; the reply reaches the requester in their thread.
  await openForm('ou_a1', triage, 'reply');
  const replied = await submitActionForm('ou_a1', 'reply', { body: '请重启手机后再试一次' });
  expect(replied.body.toast.type).toBe('success');
  await h.flush();
  const inThread = h.fake.messagesIn(h.fake.p2pChatOf('ou_req')).filter((m) => m.root_id === requesterRoot!.message_id);
  expect(inThread.some((m) => m.content.includes('请重启手机后再试一次'))).toBe(true);

  // A thread reply under the card is an internal note: stored, never sent to the requester.
  const before = h.fake.messagesIn(h.fake.p2pChatOf('ou_req')).length;
  expect((await h.say('ou_a2', '内部:怀疑是运营商短信拦截', { chatId: 'oc_help', rootId: triage.message_id })).status).toBe(200);
  await h.flush();
  const notes = await h.storage.db.selectFrom('messages').select(['visibility', 'body']).where('visibility', '=', 'internal').execute();
  expect(notes).toEqual([{ visibility: 'internal', body: '内部:怀疑是运营商短信拦截' }]);
  expect(h.fake.messagesIn(h.fake.p2pChatOf('ou_req')).length).toBe(before);

  // The requester answers in their thread: mirrored into the card's thread.
  await h.say('ou_req', '重启了还是不行', { rootId: requesterRoot!.message_id, parentId: requesterRoot!.message_id });
  await h.flush();
  const cardThread = h.fake.messagesIn('oc_help').filter((m) => m.root_id === triage.message_id);
  expect(cardThread.some((m) => m.content.includes('重启了还是不行'))).toBe(true);

  // Hand off to Finance: a leg card appears there; the original card says where it is.
  await openForm('ou_a1', lastInteractive('oc_help'), 'hand_off');
  const handed = await submitActionForm('ou_a1', 'hand_off', { department: 'finance', reason: '需要退款处理' });
  expect(handed.body.toast.type).toBe('success');
  await h.flush();
  const leg = lastInteractive('oc_fin');
  expect(cardText(card(leg))).toContain('HD-1001');
  expect(cardText(card(triage))).toContain('财务部');

  // Finance returns it with a reason: back to the helpdesk assignee.
  await openForm('ou_f1', leg, 'return');
  const returned = await submitActionForm('ou_f1', 'return', { reason_id: 'wrong-department', reason: '', note: '不是退款问题' });
  expect(returned.body.toast.type).toBe('success');
  await h.flush();
  expect((await ticketRow()).department_id).toBe('helpdesk');
  const legs = await h.storage.db.selectFrom('legs').select(['state', 'return_reason']).orderBy('seq').execute();
  expect(legs.map((l) => l.state)).toEqual(['handed_off', 'returned', 'accepted']);
  // Stored by id, as Slack stores it (it used to be the zh-CN name here: reports counted one reason twice).
  expect(legs[1]!.return_reason).toBe('wrong-department');

  // Resolve with a note; the requester is asked "Fixed?" and confirms; the survey follows.
  await openForm('ou_a1', triage, 'resolve');
  const resolved = await submitActionForm('ou_a1', 'resolve', { note: '已为账号重新绑定手机号' });
  expect(resolved.body.toast.type).toBe('success');
  await h.flush();
  const fixedQuestion = lastInteractive(h.fake.p2pChatOf('ou_req'));
  expect(cardText(card(fixedQuestion))).toContain('已为账号重新绑定手机号');
  const confirm = findControl(card(fixedQuestion), (v) => v.a === 'confirm')!;
  const confirmed = await h.click('ou_req', fixedQuestion.message_id, confirm);
  expect(confirmed.body.toast.type).toBe('success');
  expect((await ticketRow()).state).toBe('closed');
  await h.flush();
  const survey = lastInteractive(h.fake.p2pChatOf('ou_req'));
  const rateSubmit = findControl(card(survey), (v) => v.a === 'submit' && v.f === 'survey')!;
  const rated = await h.click('ou_req', survey.message_id, rateSubmit, { formValue: { score: '5', comment: '很快' } });
  expect(rated.body.toast.type).toBe('success');
  const surveys = await h.storage.db.selectFrom('surveys').select(['score', 'comment']).execute();
  expect(surveys).toEqual([{ score: 5, comment: '很快' }]);
  // Every PATCH kept the shared-card flag; the final card shows the closed state.
  expect(cardText(card(triage))).toContain('已关闭');
});

it('/ticket policy shows SLA targets in working hours, never in days', async () => {
  await h.say('ou_req', '/ticket policy');
  const text = cardText(card(lastInteractive(h.fake.p2pChatOf('ou_req'))));
  expect(text).toContain('工作小时');
  expect(text).not.toMatch(/\d+[dh]\b|\d+天/);
});

describe('in English', () => {
  beforeEach(async () => {
    await h.stop();
    h = await FeishuHarness.start({ locale: 'en' });
  });

  it('switches to English, raises a quick ticket from /ticket <text>, then claim, reply with a template, resolve, "not yet", resolve, confirm', async () => {
    await h.say('ou_req_en', '/ticket lang en');
    expect(h.fake.messagesIn(h.fake.p2pChatOf('ou_req_en')).at(-1)!.content).toContain('Language set to English.');
    await h.say('ou_req_en', '/ticket I forgot my password');
    // The default category is preselected, so the form is there at once, title prefilled.
    const formMsg = lastInteractive(h.fake.p2pChatOf('ou_req_en'));
    expect(cardText(card(formMsg))).toContain('New ticket');
    const submit = findControl(card(formMsg), (v) => v.a === 'submit' && v.f === 'new')!;
    expect(submit.cat).toBe('wrong-password');
    const created = await h.click('ou_req_en', formMsg.message_id, submit, { formValue: { priority: 'normal', title: 'I forgot my password', description: '', field_account: 'emma' } });
    expect(created.body.toast.content).toBe('Done: HD-1001');
    await h.flush();
    const triage = lastInteractive('oc_help');
    expect(cardText(card(triage))).toContain('Fault › Login › Wrong password');
    expect(h.fake.textsIn(h.fake.p2pChatOf('ou_req_en')).some((x) => x.includes('HD-1001 created: I forgot my password'))).toBe(true);

    await h.click('ou_a2', triage.message_id, findControl(card(triage), (v) => v.a === 'claim'));
    await openForm('ou_a2', triage, 'reply');
    await submitActionForm('ou_a2', 'reply', { template: 'need-info', body: '' });
    await h.flush();
    expect(h.fake.textsIn(h.fake.p2pChatOf('ou_req_en')).some((x) => x.includes('Could you tell us more?'))).toBe(true);

    await openForm('ou_a2', triage, 'resolve');
    await submitActionForm('ou_a2', 'resolve', { note: 'Password reset link sent' });
    await h.flush();
    const question = lastInteractive(h.fake.p2pChatOf('ou_req_en'));
    expect(cardText(card(question))).toContain('Is it fixed?');
    const notYet = await h.click('ou_req_en', question.message_id, findControl(card(question), (v) => v.a === 'reopen'));
    expect(notYet.body.toast.type).toBe('success');
    expect(cardText(notYet.body.card.data)).toContain('You answered: Not yet');
    expect((await ticketRow()).reopen_count).toBe(1);
    await h.flush();

    await openForm('ou_a2', triage, 'resolve');
    await submitActionForm('ou_a2', 'resolve', { note: 'Account unlocked' });
    await h.flush();
    const again = lastInteractive(h.fake.p2pChatOf('ou_req_en'));
    await h.click('ou_req_en', again.message_id, findControl(card(again), (v) => v.a === 'confirm'));
    expect((await ticketRow()).state).toBe('closed');
    await h.flush();
    expect(cardText(card(triage))).toContain('Closed');
  });
});
