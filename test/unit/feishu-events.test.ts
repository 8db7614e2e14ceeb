import { messageAttachments, messageText, parseCommand } from '../../src/feishu/events';

const msg = (message_type: string, content: unknown, mentions?: { key: string }[]) => ({
  message_id: 'om_1', chat_id: 'oc_1', chat_type: 'group', message_type, content: JSON.stringify(content), ...(mentions ? { mentions } : {}),
});

describe('Feishu inbound parsing', () => {
  it('reads /ticket and /工单 with the same subcommands, and anything else as a quick ticket', () => {
    expect(parseCommand('/ticket')).toEqual({ sub: 'new', args: [], rest: '' });
    expect(parseCommand('/工单 mine')).toEqual({ sub: 'mine', args: [], rest: '' });
    expect(parseCommand('/TICKET queue finance')).toEqual({ sub: 'queue', args: ['finance'], rest: 'finance' });
    expect(parseCommand('/ticket feedback add a FAQ  please')).toEqual({ sub: 'feedback', args: ['add', 'a', 'FAQ', 'please'], rest: 'add a FAQ  please' });
    expect(parseCommand('/工单 打印机 卡纸')).toEqual({ sub: 'quick', args: ['打印机', '卡纸'], rest: '打印机 卡纸' });
    expect(parseCommand('/工单 Dashboard')).toEqual({ sub: 'dashboard', args: [], rest: '' });
    expect(parseCommand('/ticket stats 财务部 30d')).toEqual({ sub: 'stats', args: ['财务部', '30d'], rest: '财务部 30d' });
    expect(parseCommand('/tickets mine')).toBeUndefined();
    expect(parseCommand('hello /ticket')).toBeUndefined();
  });

  it('strips @mention placeholders and reads rich text', () => {
    expect(messageText(msg('text', { text: '@_user_1 /ticket show HD-1' }, [{ key: '@_user_1' }]))).toBe('/ticket show HD-1');
    const post = { zh_cn: { title: '标题', content: [[{ tag: 'text', text: '第一行' }], [{ tag: 'a', text: '链接', href: 'https://x' }, { tag: 'at', user_id: 'ou' }]] } };
    expect(messageText(msg('post', post))).toBe('标题\n第一行\n链接');
    expect(messageText(msg('text', 'not an object'))).toBe('');
  });

  it('keeps images and files as references', () => {
    expect(messageAttachments(msg('image', { image_key: 'img_1' }))).toEqual([{ name: 'image', platform: 'feishu', fileId: 'img_1' }]);
    expect(messageAttachments(msg('file', { file_key: 'f_1', file_name: 'log.txt' }))).toEqual([{ name: 'log.txt', platform: 'feishu', fileId: 'f_1' }]);
    expect(messageAttachments(msg('text', { text: 'x' }))).toEqual([]);
  });
});
