import { CODE_BAD_FILE_KEY, CODE_BOT_NOT_IN_CHAT, CODE_CARD_INVALID, CODE_IMAGE_BAD_REQUEST, CODE_IMAGE_TOO_LARGE, CODE_RESOURCE_NOT_IN_MESSAGE, CODE_SCOPE_MISSING, CODE_TOKEN_INVALID, startFakeFeishu, type FakeFeishu } from '../fakes/feishu-server';

/** The fake Feishu refuses what Feishu refuses — each behaviour on its own, through its HTTP API. */

let fake: FakeFeishu;
let token = '';
beforeEach(async () => {
  fake = await startFakeFeishu();
  fake.addUser({ open_id: 'ou_1', name: '张三' });
  fake.botChats.add('oc_in');
  const res = await fetch(`${fake.url}/open-apis/auth/v3/tenant_access_token/internal`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ app_id: fake.appId, app_secret: fake.appSecret }) });
  token = ((await res.json()) as { tenant_access_token: string }).tenant_access_token;
});
afterEach(async () => {
  await fake.stop();
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; code: number; msg: string; data?: any }> {
  const res = await fetch(`${fake.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, ...((await res.json()) as { code: number; msg: string; data?: any }) };
}

const plain = (content: string) => ({ tag: 'plain_text', content });
const goodCard = { schema: '2.0', config: { update_multi: true }, body: { elements: [{ tag: 'div', text: plain('hi') }] } };
const send = (chat: string, card: unknown) => api('POST', '/open-apis/im/v1/messages?receive_id_type=chat_id', { receive_id: chat, msg_type: 'interactive', content: JSON.stringify(card) });

describe('fake Feishu', () => {
  it('refuses a card that breaks card JSON 2.0 with 230099, on send and on PATCH', async () => {
    const bad = { ...goodCard, body: { elements: [{ tag: 'form', name: 'f', elements: [{ tag: 'input', name: 'x', max_length: 4000 }] }] } };
    expect(await send('oc_in', bad)).toMatchObject({ status: 400, code: CODE_CARD_INVALID });
    const sent = await send('oc_in', goodCard);
    expect(sent.code).toBe(0);
    const patched = await api('PATCH', `/open-apis/im/v1/messages/${sent.data.message_id}`, { content: JSON.stringify({ ...goodCard, header: { title: plain('t'), text_tag_list: [{ tag: 'text_tag', text: plain('low'), color: 'grey' }] } }) });
    expect(patched).toMatchObject({ status: 400, code: CODE_CARD_INVALID });
  });

  it('refuses a card over 30 KB', async () => {
    const big = { ...goodCard, body: { elements: [{ tag: 'div', text: plain('汉'.repeat(10_300)) }] } };
    const res = await send('oc_in', big);
    expect(res).toMatchObject({ status: 400, code: CODE_CARD_INVALID });
    expect(res.msg).toMatch(/max 30720/);
  });

  it('refuses a message to a group chat the bot is not in (230002); p2p chats and chats a user wrote in work', async () => {
    expect(await send('oc_out', goodCard)).toMatchObject({ status: 400, code: CODE_BOT_NOT_IN_CHAT });
    expect((await api('POST', '/open-apis/im/v1/messages?receive_id_type=open_id', { receive_id: 'ou_1', msg_type: 'text', content: JSON.stringify({ text: 'hi' }) })).code).toBe(0);
    fake.addUserMessage({ message_id: 'om_u1', chat_id: 'oc_new', content: JSON.stringify({ text: 'hi @bot' }) });
    expect((await send('oc_new', goodCard)).code).toBe(0);
  });

  it('checks the scope each API needs: contact/v3/users needs a contact scope, not only field scopes', async () => {
    expect((await api('GET', '/open-apis/contact/v3/users/ou_1?user_id_type=open_id')).code).toBe(0);
    fake.tokenScopes.delete('contact:contact.base:readonly');
    expect(fake.tokenScopes.has('contact:user.base:readonly')).toBe(true);
    expect(await api('GET', '/open-apis/contact/v3/users/ou_1?user_id_type=open_id')).toMatchObject({ status: 400, code: CODE_SCOPE_MISSING });
    fake.tokenScopes.delete('im:message.urgent');
    const sent = await send('oc_in', goodCard);
    expect(await api('PATCH', `/open-apis/im/v1/messages/${sent.data.message_id}/urgent_app?user_id_type=open_id`, { user_id_list: ['ou_1'] })).toMatchObject({ code: CODE_SCOPE_MISSING });
  });

  describe('files (issue 17 item 5)', () => {
    async function upload(fields: Record<string, string>, file?: { bytes: Buffer; name: string }, auth = `Bearer ${token}`) {
      const form = new FormData();
      for (const [k, v] of Object.entries(fields)) form.set(k, v);
      if (file) form.set('file', new Blob([new Uint8Array(file.bytes)]), file.name);
      const res = await fetch(`${fake.url}/open-apis/im/v1/files`, { method: 'POST', headers: { authorization: auth }, body: form });
      return { status: res.status, ...((await res.json()) as { code: number; msg: string; data?: any }) };
    }

    it('im/v1/files takes a named file of a known file_type, not empty, at most 30 MB, with a tenant token and im:resource', async () => {
      const pdf = { bytes: Buffer.from('%PDF-1.7 x'), name: 'a.pdf' };
      expect(await upload({ file_type: 'pdf', file_name: 'a.pdf' }, pdf)).toMatchObject({ status: 200, code: 0, data: { file_key: expect.stringMatching(/^file_/) } });
      expect(await upload({ file_type: 'docx', file_name: 'a.pdf' }, pdf)).toMatchObject({ status: 400, code: CODE_IMAGE_BAD_REQUEST });
      expect(await upload({ file_type: 'pdf' }, pdf)).toMatchObject({ status: 400, code: CODE_IMAGE_BAD_REQUEST });
      expect(await upload({ file_type: 'pdf', file_name: 'a.pdf' })).toMatchObject({ status: 400, code: CODE_IMAGE_BAD_REQUEST });
      expect(await upload({ file_type: 'stream', file_name: 'e' }, { bytes: Buffer.alloc(0), name: 'e' })).toMatchObject({ status: 400, code: CODE_IMAGE_BAD_REQUEST });
      expect(await upload({ file_type: 'stream', file_name: 'big' }, { bytes: Buffer.alloc(30 * 1024 * 1024 + 1), name: 'big' })).toMatchObject({ status: 400, code: CODE_IMAGE_TOO_LARGE });
      expect(await upload({ file_type: 'pdf', file_name: 'a.pdf' }, pdf, 'Bearer t-nope')).toMatchObject({ status: 400, code: CODE_TOKEN_INVALID });
      fake.tokenScopes.delete('im:resource');
      expect(await upload({ file_type: 'pdf', file_name: 'a.pdf' }, pdf)).toMatchObject({ status: 400, code: CODE_SCOPE_MISSING });
      expect(fake.files).toHaveLength(1);
    });

    it('a file or image message must name a key this app uploaded', async () => {
      const sendFile = (content: unknown, msgType = 'file') => api('POST', '/open-apis/im/v1/messages?receive_id_type=chat_id', { receive_id: 'oc_in', msg_type: msgType, content: JSON.stringify(content) });
      expect(await sendFile({ file_key: 'file_v3_someone_elses' })).toMatchObject({ status: 400, code: CODE_BAD_FILE_KEY });
      expect(await sendFile({ image_key: 'img_v2_unknown' }, 'image')).toMatchObject({ status: 400, code: CODE_BAD_FILE_KEY });
      const key = (await upload({ file_type: 'pdf', file_name: 'a.pdf' }, { bytes: Buffer.from('%PDF'), name: 'a.pdf' })).data.file_key;
      expect(await sendFile({ file_key: key })).toMatchObject({ status: 200, code: 0 });
    });

    it('GET messages/:id/resources/:key?type= gives the bytes only for a key in that message, with the right type', async () => {
      fake.addUserMessage({ message_id: 'om_u1', chat_id: 'oc_in', msg_type: 'file', content: JSON.stringify({ file_key: 'file_v3_u1', file_name: 'log.txt' }) });
      fake.resources.set('file_v3_u1', Buffer.from('the log'));
      const get = (path: string) => fetch(`${fake.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      const ok = await get('/open-apis/im/v1/messages/om_u1/resources/file_v3_u1?type=file');
      expect(ok.status).toBe(200);
      expect(Buffer.from(await ok.arrayBuffer()).toString()).toBe('the log');
      expect((await (await get('/open-apis/im/v1/messages/om_u1/resources/file_v3_other?type=file')).json() as { code: number }).code).toBe(CODE_RESOURCE_NOT_IN_MESSAGE);
      expect((await (await get('/open-apis/im/v1/messages/om_u1/resources/file_v3_u1?type=image')).json() as { code: number }).code).toBe(CODE_RESOURCE_NOT_IN_MESSAGE);
      expect((await get('/open-apis/im/v1/messages/om_u1/resources/file_v3_u1')).status).toBe(400);
      expect((await (await get('/open-apis/im/v1/messages/om_nope/resources/file_v3_u1?type=file')).json() as { code: number }).code).toBe(230011);
    });
  });
});
