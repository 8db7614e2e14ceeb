import { ACTION } from '../../src/slack/ids';
import { SLACK_TEST_CONFIG, SlackHarness, blockText, slackTestConfig } from '../fakes/slack-harness';

/** The lifecycle again with a Chinese workspace: cards, modals, DMs and buttons in zh-CN. */
describe('Slack end to end (zh-CN)', () => {
  let h: SlackHarness;
  beforeAll(async () => {
    h = await SlackHarness.start({ config: slackTestConfig(SLACK_TEST_CONFIG.replace('locale: en', 'locale: zh-CN')) });
  });
  afterAll(async () => {
    await h.stop();
  });

  const dmOf = (user: string) => h.fake.messagesIn(`D${user}`);
  const value = (blocks: unknown, actionId: string) => JSON.stringify(blocks).match(new RegExp(`"action_id":"${actionId}","value":"([^"]+)"`))![1]!;

  it('raises by DM, claims, resolves and closes, all in Chinese', async () => {
    await h.say('UZH', 'DUZH', '打印机卡纸\n三楼的打印机一直卡纸');
    await h.deliver();
    const ticket = await h.storage.db.selectFrom('tickets').selectAll().executeTakeFirstOrThrow();
    expect(ticket).toMatchObject({ title: '打印机卡纸', locale: 'zh-CN', category_id: 'how-to' });
    expect(dmOf('UZH').map((m) => m.text).join('\n')).toContain(`${ticket.key}`);

    const card = h.cardIn('C0IT', ticket.key)!;
    const cardText = blockText(card.blocks);
    expect(cardText).toContain('咨询类 › 使用方法');
    expect(cardText).toContain('提单人');
    expect(JSON.stringify(card.blocks)).toContain('"text":"认领"');

    await h.press('UIT2', ACTION.claim, ticket.id, { channel: 'C0IT', ts: card.ts });
    await h.deliver();
    expect(dmOf('UZH').map((m) => m.text).join('\n')).toContain(`${ticket.key} 已由 Bo 认领`);

    await h.press('UIT2', ACTION.resolve, ticket.id, { channel: 'C0IT', ts: card.ts });
    const modal = h.lastView();
    expect(modal.view.title).toMatchObject({ text: '解决' });
    const empty = await h.submit('UIT2', modal, {});
    expect(Object.values(empty.body.errors as Record<string, string>)).toEqual(['请填写解决说明。']);
    await h.submit('UIT2', modal, { note: '已清理进纸器' });
    await h.deliver();
    const question = dmOf('UZH').at(-1)!;
    expect(JSON.stringify(question.blocks)).toContain('是，已解决');
    expect(JSON.stringify(question.blocks)).toContain('还没有');
    await h.press('UZH', ACTION.confirm, value(question.blocks, ACTION.confirm), { channel: 'DUZH', ts: question.ts, blocks: question.blocks });
    expect(blockText(h.fake.messages.find((m) => m.ts === question.ts)!.blocks)).toContain('你的回答：是，已解决');
    await h.deliver();
    const survey = dmOf('UZH').find((m) => (m.text ?? '').includes('服务打分'))!;
    expect(survey).toBeDefined();
    const closedCard = h.fake.messages.find((m) => m.ts === card.ts)!;
    expect(blockText(closedCard.blocks)).toContain('已关闭');
  });

  it('answers commands in Chinese, including errors', async () => {
    const { responseId } = await h.command('UZH', 'show XX-1');
    expect(h.responseTexts(responseId).join('\n')).toMatch(/XX-1/);
    const help = await h.command('UZH', 'help');
    expect(h.responseTexts(help.responseId).join('\n')).toContain('工单命令');
  });
});
