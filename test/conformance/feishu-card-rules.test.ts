import { validateCard, type Violation } from '../fakes/feishu-card-rules';

/** Each card JSON 2.0 rule the fake Feishu enforces, on its own. */

const plain = (content: string) => ({ tag: 'plain_text', content });
const card = (elements: unknown[], header?: Record<string, unknown>) => ({ schema: '2.0', config: { update_multi: true }, ...(header ? { header } : {}), body: { elements } });
const input = (extra: Record<string, unknown> = {}) => ({ tag: 'input', name: 'body', label: plain('Message'), max_length: 1000, ...extra });
const submit = { tag: 'button', name: 'submit', text: plain('Send'), type: 'primary', form_action_type: 'submit', behaviors: [{ type: 'callback', value: { a: 'submit' } }] };
const form = (elements: unknown[]) => ({ tag: 'form', name: 'f', elements: [...elements, submit] });
const select = (extra: Record<string, unknown> = {}) => ({ tag: 'select_static', name: 'pick', placeholder: plain('Pick'), options: [{ text: plain('A'), value: 'a' }], ...extra });
const rules = (v: Violation[]) => v.map((x) => `${x.path}: ${x.rule}`);

describe('Feishu card JSON 2.0 rules (https://open.feishu.cn/document/feishu-cards/card-json-v2-structure)', () => {
  it('accepts a valid card', () => {
    const ok = card(
      [
        { tag: 'markdown', content: '**x**' },
        { tag: 'div', text: plain('y') },
        { tag: 'hr' },
        { tag: 'column_set', flex_mode: 'flow', horizontal_spacing: '8px', columns: [{ tag: 'column', width: 'auto', elements: [{ tag: 'button', text: plain('Go'), type: 'default', behaviors: [{ type: 'callback', value: {} }] }] }] },
        form([input({ input_type: 'multiline_text', rows: 3, auto_resize: true, default_value: 'x' }), select({ initial_option: 'a' }), { tag: 'select_person', name: 'who', options: [{ value: 'ou_1' }] }]),
      ],
      { title: plain('T'), template: 'grey', text_tag_list: [{ tag: 'text_tag', text: plain('Low'), color: 'neutral' }] },
    );
    expect(validateCard(ok)).toEqual([]);
  });

  const cases: Array<[string, unknown, RegExp]> = [
    ['schema 1.0', { ...card([]), schema: '1.0' }, /schema must be "2.0"/],
    ['top-level elements (1.0 layout)', { schema: '2.0', elements: [], body: { elements: [] } }, /body\.elements/],
    ['input max_length over 1000', card([form([input({ max_length: 10000 })])]), /max_length 10000 \(must be 1–1000\)/],
    ['input max_length 0', card([form([input({ max_length: 0 })])]), /max_length 0/],
    ['default_value longer than max_length', card([form([input({ max_length: 5, default_value: '123456' })])]), /over max_length 5/],
    ['input_type unknown', card([form([input({ input_type: 'rich' })])]), /input_type rich/],
    ['text_tag colour grey', card([], { title: plain('T'), text_tag_list: [{ tag: 'text_tag', text: plain('Low'), color: 'grey' }] }), /tag colour grey/],
    ['more than 3 text tags', card([], { title: plain('T'), text_tag_list: Array.from({ length: 4 }, () => ({ tag: 'text_tag', text: plain('x'), color: 'blue' })) }), /at most 3 tags/],
    ['header template unknown', card([], { title: plain('T'), template: 'pink' }), /header template pink/],
    ['header without title', card([], { template: 'blue' }), /header\.title/],
    ['unknown component', card([{ tag: 'table_v9' }]), /unknown component table_v9/],
    ['1.0 action module', card([{ tag: 'action', actions: [] }]), /does not exist in card JSON 2\.0/],
    ['1.0 note', card([{ tag: 'note', elements: [] }]), /does not exist in card JSON 2\.0/],
    ['unknown property', card([{ tag: 'markdown', content: 'x', text_colour: 'red' }]), /markdown has no property text_colour/],
    ['button type unknown', card([{ tag: 'button', text: plain('b'), type: 'secondary' }]), /button type secondary/],
    ['submit button outside a form', card([submit]), /must be inside a form/],
    ['form inside a form', card([form([form([])])]), /cannot contain a form/],
    ['form field without a name', card([form([input({ name: undefined })])]), /needs a name/],
    ['duplicate names', card([form([input(), input()])]), /name body is not unique/],
    ['select without options', card([form([select({ options: [] })])]), /non-empty array/],
    ['initial_option not among options', card([form([select({ initial_option: 'zz' })])]), /initial_option zz/],
    ['column_set flex_mode unknown', card([{ tag: 'column_set', flex_mode: 'wrap', columns: [] }]), /flex_mode wrap/],
    ['column width unknown', card([{ tag: 'column_set', columns: [{ tag: 'column', width: 'wide', elements: [] }] }]), /column width/],
    ['behavior type unknown', card([{ tag: 'button', text: plain('b'), behaviors: [{ type: 'submit' }] }]), /behavior type/],
    ['img without img_key', card([{ tag: 'img', alt: plain('x') }]), /img_key is required/],
    ['element_id too long', card([{ tag: 'hr', element_id: 'x'.repeat(21) }]), /element_id/],
    ['div text not a text object', card([{ tag: 'div', text: 'raw' }]), /text object/],
    ['more than 200 components', card(Array.from({ length: 201 }, () => ({ tag: 'hr' }))), /201 components/],
    ['over 30 KB', card([{ tag: 'div', text: plain('汉'.repeat(11_000)) }]), /bytes \(max 30720\)/],
  ];
  it.each(cases)('refuses %s', (_name, c, rule) => {
    expect(rules(validateCard(c))).toEqual(expect.arrayContaining([expect.stringMatching(rule)]));
  });

  it('names the doc of every rule it reports', () => {
    for (const v of validateCard(card([{ tag: 'note' }, form([input({ max_length: 5000 })])]))) expect(v.doc).toMatch(/^https:\/\/open\.feishu\.cn\/document\//);
  });
});
