import { commandText, parseTicketCommand, periodDays } from '../../src/chat/commands';
import { feishuTestConfig } from '../fakes/feishu-harness';
import { slackTestConfig } from '../fakes/slack-harness';

/** One parser for `/ticket` and `/工单` on every platform (Slack gives the text apart; Feishu in the message). */
describe('the /ticket command parser', () => {
  const config = feishuTestConfig();
  const parse = (text: string) => parseTicketCommand(config, text);

  it('kb and its alias 知识 take the rest as the search words (issue 18)', () => {
    expect(parse('kb 收不到 验证码')).toEqual({ kind: 'kb', text: '收不到 验证码' });
    expect(parse('/工单 知识 收不到验证码')).toEqual({ kind: 'kb', text: '收不到验证码' });
    expect(parse('KB reset password')).toEqual({ kind: 'kb', text: 'reset password' });
    expect(parse('kb')).toEqual({ kind: 'kb', text: '' });
    expect(parse('知识库怎么用')).toEqual({ kind: 'quick', text: '知识库怎么用' });
  });

  it('reads the command word of a message (/ticket or /工单, any case) and nothing else', () => {
    expect(commandText('/ticket')).toBe('');
    expect(commandText('/工单 mine')).toBe('mine');
    expect(commandText('/TICKET queue finance')).toBe('queue finance');
    expect(commandText('/tickets mine')).toBeUndefined();
    expect(commandText('hello /ticket')).toBeUndefined();
  });

  it('gives the same command whether the text comes with the command word or without', () => {
    for (const text of ['mine', 'queue finance', 'show hd-1', 'stats 财务部 30天', 'feedback add a FAQ  please', '打印机 卡纸', 'lang zh', 'help', 'frobnicate', '']) {
      expect(parse(`/ticket ${text}`)).toEqual(parse(text));
      expect(parse(`/工单 ${text}`)).toEqual(parse(text));
    }
  });

  it('parses subcommands and their arguments', () => {
    expect(parse('')).toEqual({ kind: 'new' });
    expect(parse('new')).toEqual({ kind: 'new' });
    expect(parse('new printer jams')).toEqual({ kind: 'quick', text: 'printer jams' });
    expect(parse('Dashboard')).toEqual({ kind: 'dashboard' });
    expect(parse('queue 财务部')).toEqual({ kind: 'queue', departmentText: '财务部', departmentId: 'finance' });
    expect(parse('queue nowhere')).toEqual({ kind: 'queue', departmentText: 'nowhere', departmentId: undefined });
    expect(parse('show hd-1')).toEqual({ kind: 'show', key: 'HD-1', history: false });
    // issue 17: the history, and escalation by command (Chinese aliases too).
    expect(parse('show hd-1 --history')).toEqual({ kind: 'show', key: 'HD-1', history: true });
    expect(parse('查看 HD-1 --history')).toEqual({ kind: 'show', key: 'HD-1', history: true });
    expect(parse('show --history hd-1')).toEqual({ kind: 'show', key: 'HD-1', history: true });
    expect(parse('escalate hd-1 the whole floor is down')).toEqual({ kind: 'escalate', key: 'HD-1', reason: 'the whole floor is down' });
    expect(parse('升级 HD-1 整层断网')).toEqual({ kind: 'escalate', key: 'HD-1', reason: '整层断网' });
    expect(parse('escalate HD-1')).toEqual({ kind: 'escalate', key: 'HD-1', reason: '' });
    expect(parse('feedback add a FAQ  please')).toEqual({ kind: 'feedback', text: 'add a FAQ  please' });
    expect(parse('lang en')).toEqual({ kind: 'lang', locale: 'en' });
    expect(parse('lang 中文')).toEqual({ kind: 'lang', locale: 'zh-CN' });
    expect(parse('lang fr')).toEqual({ kind: 'lang', locale: undefined });
  });

  it('reads periods as 30d or 30天 and departments by id, prefix or name, in any order (the Slack drift: 30天 only worked in Feishu)', () => {
    expect(parse('stats 财务部 30天')).toMatchObject({ kind: 'stats', days: 30, departmentId: 'finance', periodText: '30天' });
    expect(parse('stats 30d finance')).toMatchObject({ kind: 'stats', days: 30, departmentId: 'finance' });
    expect(parse('stats')).toMatchObject({ kind: 'stats', days: 7, departmentId: undefined, periodText: undefined });
    expect(periodDays('400d')).toBe(400);
    expect(periodDays('400天')).toBe(400);
    expect(periodDays('finance')).toBeUndefined();
    const slack = slackTestConfig();
    expect(parseTicketCommand(slack, 'stats IT 30天')).toMatchObject({ kind: 'stats', days: 30, departmentId: 'it' });
    for (const word of ['help', '帮助', '?', '--help']) expect(parseTicketCommand(slack, `stats ${word}`)).toEqual({ kind: 'stats_help' });
    expect(parseTicketCommand(slack, 'stats helpdesk')).toMatchObject({ kind: 'stats', departmentText: 'helpdesk' });
  });

  it('takes Chinese subcommand names too', () => {
    expect(parse('帮助')).toEqual({ kind: 'help' });
    expect(parse('统计 服务台 7天')).toMatchObject({ kind: 'stats', days: 7, departmentId: 'helpdesk' });
    expect(parse('我的')).toEqual({ kind: 'mine' });
  });

  it('raises a quick ticket from any other text; a single unknown latin word is a mistyped subcommand', () => {
    expect(parse('打印机 卡纸')).toEqual({ kind: 'quick', text: '打印机 卡纸' });
    expect(parse('printer jams again')).toEqual({ kind: 'quick', text: 'printer jams again' });
    expect(parse('frobnicate')).toEqual({ kind: 'unknown', word: 'frobnicate' });
    expect(parse('打印机坏了')).toEqual({ kind: 'quick', text: '打印机坏了' });
  });
});
