import { errorText } from '../../src/chat/errors';
import { CHAT_PLATFORMS, departmentChannels, isChatPlatform } from '../../src/domain/platforms';
import { extendableClocks, returnReasonLabel } from '../../src/chat/views';
import { feishuTestConfig } from '../fakes/feishu-harness';

const config = feishuTestConfig();
const ctx = { config, calendars: new Map() } as never;

/** Rules that used to be written once per platform and had drifted; now one each, in src/chat. */
describe('the chat layer’s shared rules', () => {
  it('words core errors the same for every platform, with parameters in the reader’s language', () => {
    // Feishu used to show raw parameters: "invalid_transition … waiting_on_requester".
    expect(errorText(ctx, 'zh-CN', { code: 'ticket.invalid_transition', params: { key: 'HD-1', action: 'resolve', state: 'waiting_on_requester' } })).toContain('等待');
    expect(errorText(ctx, 'en', { code: 'ticket.invalid_transition', params: { key: 'HD-1', action: 'resolve', state: 'waiting_on_requester' } })).not.toContain('waiting_on_requester');
    expect(errorText(ctx, 'zh-CN', { code: 'ticket.missing_fields', params: { fields: 'title,order_id' } })).toContain('标题、订单号');
    expect(errorText(ctx, 'en', { code: 'ticket.missing_fields', params: { fields: 'title,order_id' } })).toBe('Please fill in: Title, Order ID.');
    expect(errorText(ctx, 'zh-CN', { code: 'access.department_denied', params: { department: 'finance', yours: 'helpdesk, it' } })).toContain('服务台、信息技术部');
    expect(errorText(ctx, 'en', { code: 'no.such.code', params: {} })).toBe(errorText(ctx, 'en', { code: 'internal', params: {} }));
  });

  it('shows a return reason by its name whether it was stored by id or (older rows) by a name', () => {
    expect(returnReasonLabel(config, 'en', 'wrong-department')).toBe('Wrong department');
    expect(returnReasonLabel(config, 'en', '分派错误')).toBe('Wrong department');
    expect(returnReasonLabel(config, 'zh-CN', 'wrong-department')).toBe('分派错误');
    expect(returnReasonLabel(config, 'en', 'typed by hand')).toBe('typed by hand');
  });

  it('offers the same clocks to extend everywhere: running or paused, else resolution', () => {
    const clock = (kind: string, status: string) => ({ kind, status }) as never;
    // Feishu offered running clocks only: a paused resolution clock (waiting on the requester) could not be extended there.
    expect(extendableClocks({ clocks: [clock('first_response', 'met'), clock('resolution', 'paused')] })).toEqual(['resolution']);
    expect(extendableClocks({ clocks: [clock('first_response', 'running'), clock('resolution', 'running'), clock('resolution', 'running')] })).toEqual(['first_response', 'resolution']);
    expect(extendableClocks({ clocks: [] })).toEqual(['resolution']);
  });
});

describe('the platform registry', () => {
  it('lists a department’s channels from the registry, one per configured platform', () => {
    expect(departmentChannels({ slack: { channel: 'C0IT' }, feishu: { chat_id: 'oc_it' } })).toEqual([
      { platform: 'slack', id: 'C0IT' },
      { platform: 'feishu', id: 'oc_it' },
    ]);
    expect(departmentChannels({ feishu: { chat_id: 'oc_it' } })).toEqual([{ platform: 'feishu', id: 'oc_it' }]);
    expect(departmentChannels({})).toEqual([]);
    expect(CHAT_PLATFORMS.every(isChatPlatform)).toBe(true);
    expect(isChatPlatform('cli')).toBe(false);
  });
});
