import { validateMessage, validateView, type Violation } from '../fakes/block-kit-rules';

/** Each Block Kit rule the fake Slack enforces, on its own: a valid view stays valid, one change breaks one rule. */

const pt = (text: string) => ({ type: 'plain_text', text });
const md = (text: string) => ({ type: 'mrkdwn', text });
const option = (v: string, text = v) => ({ text: pt(text), value: v });
const select = (extra: Record<string, unknown> = {}) => ({ type: 'static_select', action_id: 'value', placeholder: pt('Pick'), options: [option('a'), option('b')], ...extra });
const input = (element: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: 'input', block_id: 'in', label: pt('Label'), element, ...extra });
const modal = (blocks: unknown[], extra: Record<string, unknown> = {}) => ({ type: 'modal', callback_id: 'cb', title: pt('Title'), submit: pt('Send'), close: pt('Cancel'), private_metadata: '{}', blocks, ...extra });
const rules = (v: Violation[]) => v.map((x) => `${x.path}: ${x.rule}`);

describe('Block Kit rules (https://api.slack.com/reference/block-kit)', () => {
  it('accepts a valid message and a valid modal', () => {
    expect(validateMessage({ text: 'hi', blocks: [{ type: 'header', text: pt('H') }, { type: 'section', text: md('*x*'), fields: [md('a')] }, { type: 'context', elements: [md('c')] }, { type: 'divider' }, { type: 'actions', elements: [{ type: 'button', text: pt('Go'), action_id: 'go', value: 'v', style: 'primary' }, { type: 'overflow', action_id: 'm', options: [option('x')] }] }] })).toEqual([]);
    expect(validateView(modal([input(select()), input({ type: 'plain_text_input', action_id: 'value', max_length: 100, initial_value: 'x' }, { block_id: 'b2' }), input({ type: 'file_input', action_id: 'value', max_files: 5 }, { block_id: 'b3' })]))).toEqual([]);
    expect(validateView({ type: 'home', blocks: [{ type: 'section', text: md('x') }] })).toEqual([]);
    expect(validateView(modal([input(select({ options: undefined, option_groups: [{ label: pt('A – B'), options: [option('a'), option('b')] }, { label: pt('C'), options: [option('c')] }], initial_option: option('c') }))]))).toEqual([]);
  });

  const messageCases: Array<[string, unknown[], RegExp]> = [
    ['more than 50 blocks in a message', Array.from({ length: 51 }, () => ({ type: 'divider' })), /51 blocks \(max 50/],
    ['unknown block type', [{ type: 'table' }], /unknown block type/],
    ['section text over 3000', [{ type: 'section', text: md('x'.repeat(3001)) }], /3001 characters \(max 3000/],
    ['section without text or fields', [{ type: 'section' }], /needs text or fields/],
    ['more than 10 section fields', [{ type: 'section', fields: Array.from({ length: 11 }, () => md('f')) }], /fields must hold 1–10/],
    ['section field over 2000', [{ type: 'section', fields: [md('x'.repeat(2001))] }], /max 2000/],
    ['header over 150', [{ type: 'header', text: pt('x'.repeat(151)) }], /max 150/],
    ['header in mrkdwn', [{ type: 'header', text: md('x') }], /plain_text only/],
    ['empty text', [{ type: 'section', text: md('') }], /non-empty/],
    ['emoji on mrkdwn', [{ type: 'section', text: { ...md('x'), emoji: true } }], /emoji is only valid on plain_text/],
    ['more than 10 context elements', [{ type: 'context', elements: Array.from({ length: 11 }, () => md('c')) }], /context holds 1–10/],
    ['more than 25 action elements', [{ type: 'actions', elements: Array.from({ length: 26 }, (_, i) => ({ type: 'button', text: pt('b'), action_id: `b${i}` })) }], /actions holds 1–25/],
    ['text input in actions', [{ type: 'actions', elements: [{ type: 'plain_text_input', action_id: 'x' }] }], /not allowed in actions/],
    ['button text over 75', [{ type: 'actions', elements: [{ type: 'button', text: pt('x'.repeat(76)), action_id: 'b' }] }], /max 75/],
    ['button value over 2000', [{ type: 'actions', elements: [{ type: 'button', text: pt('b'), action_id: 'b', value: 'x'.repeat(2001) }] }], /button value/],
    ['button style', [{ type: 'actions', elements: [{ type: 'button', text: pt('b'), action_id: 'b', style: 'secondary' }] }], /style must be primary or danger/],
    ['duplicate action_id in a block', [{ type: 'actions', elements: [{ type: 'button', text: pt('b'), action_id: 'b' }, { type: 'button', text: pt('c'), action_id: 'b' }] }], /not unique in its block/],
    ['duplicate block_id', [{ type: 'divider', block_id: 'x' }, { type: 'divider', block_id: 'x' }], /block_id x is not unique/],
    ['block_id over 255', [{ type: 'divider', block_id: 'x'.repeat(256) }], /block_id must be 1–255/],
    ['overflow with 6 options', [{ type: 'actions', elements: [{ type: 'overflow', action_id: 'o', options: Array.from({ length: 6 }, (_, i) => option(`o${i}`)) }] }], /6 options \(must be 1–5\)/],
    ['select with 0 options', [{ type: 'actions', elements: [select({ options: [] })] }], /0 options \(must be 1–100\)/],
    ['select with 101 options', [{ type: 'actions', elements: [select({ options: Array.from({ length: 101 }, (_, i) => option(`o${i}`)) })] }], /101 options/],
    ['option text over 75', [{ type: 'actions', elements: [select({ options: [option('a', 'x'.repeat(76))] })] }], /max 75/],
    ['option value over 150', [{ type: 'actions', elements: [select({ options: [option('x'.repeat(151))] })] }], /option value is 151/],
    ['duplicate option value', [{ type: 'actions', elements: [select({ options: [option('a'), option('a')] })] }], /duplicate option value/],
    ['initial_option not among options', [{ type: 'actions', elements: [select({ initial_option: option('z') })] }], /initial_option must be one of the options/],
    ['options and option_groups together', [{ type: 'actions', elements: [select({ option_groups: [{ label: pt('g'), options: [option('c')] }] })] }], /mutually exclusive/],
    ['101 option groups', [{ type: 'actions', elements: [select({ options: undefined, option_groups: Array.from({ length: 101 }, (_, i) => ({ label: pt('g'), options: [option(`o${i}`)] })) })] }], /1–100 groups/],
    ['option group with 101 options', [{ type: 'actions', elements: [select({ options: undefined, option_groups: [{ label: pt('g'), options: Array.from({ length: 101 }, (_, i) => option(`o${i}`)) }] })] }], /101 options/],
    ['option group label over 75', [{ type: 'actions', elements: [select({ options: undefined, option_groups: [{ label: pt('x'.repeat(76)), options: [option('a')] }] })] }], /max 75/],
    ['duplicate option value across groups', [{ type: 'actions', elements: [select({ options: undefined, option_groups: [{ label: pt('g'), options: [option('a')] }, { label: pt('h'), options: [option('a')] }] })] }], /duplicate option value/],
    ['initial_option not in any group', [{ type: 'actions', elements: [select({ options: undefined, option_groups: [{ label: pt('g'), options: [option('a')] }], initial_option: option('z') })] }], /initial_option must be one of the options/],
    ['markdown block in a message is fine, text required', [{ type: 'markdown' }], /markdown text is required/],
  ];
  it.each(messageCases)('refuses a message: %s', (_name, blocks, rule) => {
    expect(rules(validateMessage({ text: 'x', blocks }))).toEqual(expect.arrayContaining([expect.stringMatching(rule)]));
  });

  it('refuses a message without text or blocks, and text over 40,000', () => {
    expect(rules(validateMessage({}))).toEqual([expect.stringMatching(/needs text or blocks/)]);
    expect(rules(validateMessage({ text: 'x'.repeat(40001) }))).toEqual([expect.stringMatching(/40,000/)]);
  });

  const viewCases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['more than 100 blocks', modal(Array.from({ length: 101 }, () => ({ type: 'divider' }))), /101 blocks \(max 100/],
    ['title over 24', modal([], { title: pt('x'.repeat(25)) }), /max 24/],
    ['submit over 24', modal([], { submit: pt('x'.repeat(25)) }), /max 24/],
    ['private_metadata over 3000', modal([], { private_metadata: 'x'.repeat(3001) }), /private_metadata is 3001/],
    ['callback_id over 255', modal([], { callback_id: 'x'.repeat(256) }), /callback_id/],
    ['input without submit', modal([input(select())], { submit: undefined }), /needs a submit button/],
    ['markdown block in a modal', modal([{ type: 'markdown', text: 'x' }]), /not available in modal/],
    ['button as an input element', modal([input({ type: 'button', text: pt('b'), action_id: 'b' })]), /not an input element/],
    ['input label over 2000', modal([input(select(), { label: pt('x'.repeat(2001)) })]), /max 2000/],
    ['text input max_length over 3000', modal([input({ type: 'plain_text_input', action_id: 'v', max_length: 3001 })]), /max_length 3001/],
    ['initial_value over max_length', modal([input({ type: 'plain_text_input', action_id: 'v', max_length: 5, initial_value: 'toolong' })]), /over max_length/],
    ['file_input max_files over 10', modal([input({ type: 'file_input', action_id: 'v', max_files: 11 })]), /max_files must be 1–10/],
    ['number_input without is_decimal_allowed', modal([input({ type: 'number_input', action_id: 'v' })]), /is_decimal_allowed is required/],
    ['select placeholder over 150', modal([input(select({ placeholder: pt('x'.repeat(151)) }))]), /max 150/],
    ['unknown view type', { type: 'dialog', blocks: [] }, /modal or home/],
  ];
  it.each(viewCases)('refuses a view: %s', (_name, view, rule) => {
    expect(rules(validateView(view))).toEqual(expect.arrayContaining([expect.stringMatching(rule)]));
  });

  it('names the doc of every rule it reports', () => {
    for (const v of validateMessage({ text: 'x', blocks: [{ type: 'section' }, { type: 'header', text: md('') }] })) expect(v.doc).toMatch(/^https:\/\/api\.slack\.com\//);
  });
});
