import { messageAttachments, messageText } from '../../src/feishu/events';

const msg = (message_type: string, content: unknown, mentions?: { key: string }[]) => ({
  message_id: 'om_1', chat_id: 'oc_1', chat_type: 'group', message_type, content: JSON.stringify(content), ...(mentions ? { mentions } : {}),
});

describe('Feishu inbound parsing', () => {
  it('strips @mention placeholders and reads rich text', () => {
    expect(messageText(msg('text', { text: '@_user_1 /ticket show HD-1' }, [{ key: '@_user_1' }]))).toBe('/ticket show HD-1');
    const post = { zh_cn: { title: '标题', content: [[{ tag: 'text', text: '第一行' }], [{ tag: 'a', text: '链接', href: 'https://x' }, { tag: 'at', user_id: 'ou' }]] } };
    expect(messageText(msg('post', post))).toBe('标题\n第一行\n链接');
    expect(messageText(msg('text', 'not an object'))).toBe('');
  });

  it('keeps images and files as references', () => {
    // With what it takes to read them again (GET …/messages/:message_id/resources/:key?type=image|file).
    expect(messageAttachments(msg('image', { image_key: 'img_1' }))).toEqual([{ name: 'image.png', platform: 'feishu', fileId: 'img_1', kind: 'image', messageId: 'om_1', channel: 'oc_1' }]);
    expect(messageAttachments(msg('file', { file_key: 'f_1', file_name: 'log.txt' }))).toEqual([{ name: 'log.txt', platform: 'feishu', fileId: 'f_1', kind: 'file', messageId: 'om_1', channel: 'oc_1' }]);
    expect(messageAttachments(msg('text', { text: 'x' }))).toEqual([]);
  });
});
