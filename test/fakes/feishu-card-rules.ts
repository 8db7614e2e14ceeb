/**
 * Feishu card JSON 2.0 as Feishu checks it (2.0 cards are validated strictly: a card that breaks
 * a rule is refused with 230099). Used by the fake Feishu on every message create / reply / PATCH
 * and by the presenter conformance suite. Each rule names the doc it comes from.
 */

export interface Violation {
  path: string;
  rule: string;
  doc: string;
}

const BASE = 'https://open.feishu.cn/document/feishu-cards';
const DOC = {
  structure: `${BASE}/card-json-v2-structure`,
  breaking: `${BASE}/card-json-v2-breaking-changes-release-notes`,
  size: 'https://open.feishu.cn/document/server-docs/im-v1/message/create',
  div: `${BASE}/card-json-v2-components/content-components/plain-text`,
  markdown: `${BASE}/card-json-v2-components/content-components/rich-text`,
  hr: `${BASE}/card-json-v2-components/content-components/divider`,
  img: `${BASE}/card-json-v2-components/content-components/image`,
  columnSet: `${BASE}/card-json-v2-components/containers/column-set`,
  form: `${BASE}/card-json-v2-components/containers/form-container`,
  input: `${BASE}/card-json-v2-components/interactive-components/input`,
  button: `${BASE}/card-json-v2-components/interactive-components/button`,
  selectStatic: `${BASE}/card-json-v2-components/interactive-components/single-select-dropdown-menu`,
  selectPerson: `${BASE}/card-json-v2-components/interactive-components/single-select-user-picker`,
} as const;

/** The card's content may be at most 30 KB (message create: "卡片消息内容最大不超过 30 KB"). */
export const CARD_MAX_BYTES = 30 * 1024;
/** input.max_length: 1–1,000. */
export const INPUT_MAX_LENGTH = 1000;
/** Components per card (card-json-v2-structure: at most 200 elements). */
export const MAX_COMPONENTS = 200;

/** Header templates (card-json-v2-structure, header.template). */
export const HEADER_TEMPLATES = new Set(['blue', 'wathet', 'turquoise', 'green', 'yellow', 'orange', 'red', 'carmine', 'violet', 'purple', 'indigo', 'grey', 'default']);
/** text_tag colours (card-json-v2-structure, header.text_tag_list[].color) — `neutral`, not `grey`. */
export const TAG_COLOURS = new Set(['neutral', 'blue', 'turquoise', 'lime', 'orange', 'violet', 'indigo', 'wathet', 'green', 'yellow', 'red', 'purple', 'carmine']);
const BUTTON_TYPES = new Set(['default', 'primary', 'danger', 'text', 'primary_text', 'danger_text', 'primary_filled', 'danger_filled', 'laser']);
const INPUT_TYPES = new Set(['text', 'multiline_text', 'password']);
const FLEX_MODES = new Set(['none', 'stretch', 'flow', 'bisect', 'trisect']);
const BEHAVIOR_TYPES = new Set(['callback', 'open_url']);

const COMMON = ['tag', 'element_id', 'margin'];
/** Property names each component takes (its doc's JSON structure); anything else is refused. */
const PROPS: Record<string, { props: string[]; doc: string }> = {
  div: { props: ['text', 'icon', 'width', 'text_align'], doc: DOC.div },
  markdown: { props: ['content', 'text_align', 'text_size', 'icon'], doc: DOC.markdown },
  hr: { props: [], doc: DOC.hr },
  img: { props: ['img_key', 'alt', 'title', 'corner_radius', 'scale_type', 'size', 'transparent', 'preview'], doc: DOC.img },
  column_set: { props: ['horizontal_spacing', 'horizontal_align', 'flex_mode', 'background_style', 'columns', 'action', 'vertical_spacing'], doc: DOC.columnSet },
  column: { props: ['background_style', 'width', 'weight', 'vertical_align', 'vertical_spacing', 'horizontal_align', 'horizontal_spacing', 'direction', 'padding', 'elements', 'action'], doc: DOC.columnSet },
  form: { props: ['name', 'elements', 'direction', 'padding', 'horizontal_spacing', 'horizontal_align', 'vertical_spacing', 'vertical_align'], doc: DOC.form },
  input: { props: ['name', 'required', 'disabled', 'placeholder', 'default_value', 'width', 'max_length', 'input_type', 'show_icon', 'rows', 'auto_resize', 'max_rows', 'label', 'label_position', 'value', 'behaviors', 'fallback'], doc: DOC.input },
  button: { props: ['type', 'size', 'width', 'text', 'icon', 'hover_tips', 'disabled', 'disabled_tips', 'confirm', 'behaviors', 'form_action_type', 'name'], doc: DOC.button },
  select_static: { props: ['type', 'name', 'required', 'disabled', 'placeholder', 'width', 'initial_option', 'options', 'behaviors', 'confirm'], doc: DOC.selectStatic },
  multi_select_static: { props: ['type', 'name', 'required', 'disabled', 'placeholder', 'width', 'selected_values', 'options', 'behaviors', 'confirm'], doc: DOC.selectStatic },
  select_person: { props: ['type', 'name', 'required', 'disabled', 'placeholder', 'width', 'initial_option', 'options', 'behaviors', 'confirm'], doc: DOC.selectPerson },
};
/** Tags of JSON 1.0 that 2.0 no longer has (the `action` module and `note`). */
const REMOVED_IN_2 = new Set(['action', 'note']);
const FORM_FIELDS = new Set(['input', 'select_static', 'select_person', 'multi_select_static', 'multi_select_person', 'date_picker', 'picker_time', 'picker_datetime', 'checker', 'select_img']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const chars = (s: string) => [...s].length;

class Checker {
  readonly out: Violation[] = [];
  components = 0;
  readonly names = new Set<string>();
  fail(path: string, rule: string, doc: string): void {
    this.out.push({ path, rule, doc });
  }

  plain(v: unknown, path: string, doc: string): void {
    if (!isObj(v) || (v.tag !== 'plain_text' && v.tag !== 'lark_md') || typeof v.content !== 'string') this.fail(path, 'a text object { tag: plain_text | lark_md, content } is required', doc);
  }

  behaviors(v: unknown, path: string, doc: string): void {
    if (v === undefined) return;
    if (!Array.isArray(v)) return this.fail(path, 'behaviors must be an array', doc);
    v.forEach((b, i) => {
      if (!isObj(b) || !BEHAVIOR_TYPES.has(String(b.type))) this.fail(`${path}[${i}].type`, `behavior type must be callback or open_url, not ${String(isObj(b) ? b.type : b)}`, doc);
    });
  }

  options(v: unknown, path: string, doc: string, person: boolean): Set<string> {
    const values = new Set<string>();
    if (v === undefined && person) return values;
    if (!Array.isArray(v) || v.length === 0) {
      this.fail(path, 'options must be a non-empty array', doc);
      return values;
    }
    v.forEach((o, i) => {
      if (!isObj(o) || typeof o.value !== 'string' || o.value === '') return this.fail(`${path}[${i}].value`, 'every option needs a value', doc);
      if (!person) this.plain(o.text, `${path}[${i}].text`, doc);
      values.add(o.value);
    });
    return values;
  }

  component(e: unknown, path: string, inForm: boolean): void {
    if (!isObj(e)) return this.fail(path, 'a component object is required', DOC.structure);
    this.components++;
    const tag = String(e.tag);
    if (REMOVED_IN_2.has(tag)) return this.fail(`${path}.tag`, `${tag} does not exist in card JSON 2.0`, DOC.breaking);
    const spec = PROPS[tag];
    if (!spec) return this.fail(`${path}.tag`, `unknown component ${tag}`, DOC.structure);
    for (const key of Object.keys(e)) if (!COMMON.includes(key) && !spec.props.includes(key)) this.fail(`${path}.${key}`, `${tag} has no property ${key}`, spec.doc);
    if (e.element_id !== undefined && (typeof e.element_id !== 'string' || !/^[A-Za-z][A-Za-z0-9_]{0,19}$/.test(e.element_id))) this.fail(`${path}.element_id`, 'element_id: a letter, then letters, digits or _, at most 20', DOC.structure);
    if (FORM_FIELDS.has(tag) || (tag === 'button' && e.form_action_type !== undefined)) {
      if (inForm) {
        if (typeof e.name !== 'string' || e.name === '') this.fail(`${path}.name`, `a ${tag} in a form needs a name`, DOC.form);
        else if (this.names.has(e.name)) this.fail(`${path}.name`, `name ${e.name} is not unique in the card`, DOC.form);
        else this.names.add(e.name);
      }
    }
    switch (tag) {
      case 'div':
        return this.plain(e.text, `${path}.text`, DOC.div);
      case 'markdown':
        if (typeof e.content !== 'string') this.fail(`${path}.content`, 'markdown content is required', DOC.markdown);
        return;
      case 'img':
        if (typeof e.img_key !== 'string' || e.img_key === '') this.fail(`${path}.img_key`, 'img_key is required', DOC.img);
        return;
      case 'column_set':
        if (e.flex_mode !== undefined && !FLEX_MODES.has(String(e.flex_mode))) this.fail(`${path}.flex_mode`, `flex_mode ${String(e.flex_mode)} is not one of ${[...FLEX_MODES].join(', ')}`, DOC.columnSet);
        if (!Array.isArray(e.columns)) return this.fail(`${path}.columns`, 'columns must be an array', DOC.columnSet);
        e.columns.forEach((c, i) => {
          if (!isObj(c) || c.tag !== 'column') return this.fail(`${path}.columns[${i}]`, 'a column_set holds column components', DOC.columnSet);
          this.component(c, `${path}.columns[${i}]`, inForm);
        });
        return;
      case 'column':
        if (e.width !== undefined && !(e.width === 'auto' || e.width === 'weighted' || /^\d+px$/.test(String(e.width)))) this.fail(`${path}.width`, 'column width is auto, weighted or [16,600]px', DOC.columnSet);
        return this.elements(e.elements, `${path}.elements`, inForm);
      case 'form':
        if (inForm) this.fail(path, 'a form cannot contain a form', DOC.form);
        if (typeof e.name !== 'string' || e.name === '') this.fail(`${path}.name`, 'a form needs a name', DOC.form);
        return this.elements(e.elements, `${path}.elements`, true);
      case 'input': {
        const max = e.max_length;
        if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > INPUT_MAX_LENGTH)) this.fail(`${path}.max_length`, `max_length ${String(max)} (must be 1–${INPUT_MAX_LENGTH})`, DOC.input);
        const limit = typeof max === 'number' ? Math.min(max, INPUT_MAX_LENGTH) : INPUT_MAX_LENGTH;
        if (typeof e.default_value === 'string' && chars(e.default_value) > limit) this.fail(`${path}.default_value`, `default_value is ${chars(e.default_value)} characters, over max_length ${limit}`, DOC.input);
        if (e.input_type !== undefined && !INPUT_TYPES.has(String(e.input_type))) this.fail(`${path}.input_type`, `input_type ${String(e.input_type)} is not text, multiline_text or password`, DOC.input);
        if (e.label !== undefined) this.plain(e.label, `${path}.label`, DOC.input);
        if (e.placeholder !== undefined) this.plain(e.placeholder, `${path}.placeholder`, DOC.input);
        return this.behaviors(e.behaviors, `${path}.behaviors`, DOC.input);
      }
      case 'button':
        this.plain(e.text, `${path}.text`, DOC.button);
        if (e.type !== undefined && !BUTTON_TYPES.has(String(e.type))) this.fail(`${path}.type`, `button type ${String(e.type)} is not one of ${[...BUTTON_TYPES].join(', ')}`, DOC.button);
        if (e.form_action_type !== undefined) {
          if (e.form_action_type !== 'submit' && e.form_action_type !== 'reset') this.fail(`${path}.form_action_type`, 'form_action_type is submit or reset', DOC.form);
          if (!inForm) this.fail(`${path}.form_action_type`, 'a submit/reset button must be inside a form', DOC.form);
        }
        return this.behaviors(e.behaviors, `${path}.behaviors`, DOC.button);
      case 'select_static':
      case 'select_person': {
        const doc = tag === 'select_static' ? DOC.selectStatic : DOC.selectPerson;
        if (e.placeholder !== undefined) this.plain(e.placeholder, `${path}.placeholder`, doc);
        const values = this.options(e.options, `${path}.options`, doc, tag === 'select_person');
        if (e.initial_option !== undefined && values.size > 0 && !values.has(String(e.initial_option))) this.fail(`${path}.initial_option`, `initial_option ${String(e.initial_option)} is not one of the options`, doc);
        return this.behaviors(e.behaviors, `${path}.behaviors`, doc);
      }
      case 'multi_select_static': {
        // Only inside a form (its submit carries the picked values), with a name, options of unique values.
        if (!inForm) this.fail(path, 'multi_select_static must be inside a form', DOC.selectStatic);
        if (e.placeholder !== undefined) this.plain(e.placeholder, `${path}.placeholder`, DOC.selectStatic);
        const values = this.options(e.options, `${path}.options`, DOC.selectStatic, false);
        if (Array.isArray(e.selected_values)) for (const v of e.selected_values) if (!values.has(String(v))) this.fail(`${path}.selected_values`, `${String(v)} is not one of the options`, DOC.selectStatic);
        return this.behaviors(e.behaviors, `${path}.behaviors`, DOC.selectStatic);
      }
      default:
        return;
    }
  }

  elements(v: unknown, path: string, inForm: boolean): void {
    if (!Array.isArray(v)) return this.fail(path, 'elements must be an array', DOC.structure);
    v.forEach((e, i) => this.component(e, `${path}[${i}]`, inForm));
  }
}

/** Violations of a card (the parsed content of an `interactive` message, or a callback's card data). */
export function validateCard(card: unknown): Violation[] {
  const c = new Checker();
  if (!isObj(card)) {
    c.fail('', 'a card object is required', DOC.structure);
    return c.out;
  }
  if (card.schema !== '2.0') c.fail('schema', 'schema must be "2.0"', DOC.structure);
  if (card.elements !== undefined) c.fail('elements', 'JSON 2.0 puts components in body.elements', DOC.breaking);
  if (isObj(card.header)) {
    const h = card.header;
    c.plain(h.title, 'header.title', DOC.structure);
    if (h.subtitle !== undefined) c.plain(h.subtitle, 'header.subtitle', DOC.structure);
    if (h.template !== undefined && !HEADER_TEMPLATES.has(String(h.template))) c.fail('header.template', `header template ${String(h.template)} is not one of ${[...HEADER_TEMPLATES].join(', ')}`, DOC.structure);
    if (h.text_tag_list !== undefined) {
      if (!Array.isArray(h.text_tag_list) || h.text_tag_list.length > 3) c.fail('header.text_tag_list', 'text_tag_list holds at most 3 tags', DOC.structure);
      (Array.isArray(h.text_tag_list) ? h.text_tag_list : []).forEach((tag, i) => {
        if (!isObj(tag) || tag.tag !== 'text_tag') return c.fail(`header.text_tag_list[${i}]`, 'a text_tag is required', DOC.structure);
        c.plain(tag.text, `header.text_tag_list[${i}].text`, DOC.structure);
        if (tag.color !== undefined && !TAG_COLOURS.has(String(tag.color))) c.fail(`header.text_tag_list[${i}].color`, `tag colour ${String(tag.color)} is not one of ${[...TAG_COLOURS].join(', ')}`, DOC.structure);
      });
    }
  } else if (card.header !== undefined) c.fail('header', 'header must be an object', DOC.structure);
  if (!isObj(card.body)) c.fail('body', 'body with elements is required', DOC.structure);
  else c.elements(card.body.elements, 'body.elements', false);
  if (c.components > MAX_COMPONENTS) c.fail('body.elements', `${c.components} components (max ${MAX_COMPONENTS})`, DOC.structure);
  const bytes = Buffer.byteLength(JSON.stringify(card), 'utf8');
  if (bytes > CARD_MAX_BYTES) c.fail('', `the card is ${bytes} bytes (max ${CARD_MAX_BYTES})`, DOC.size);
  return c.out;
}

/** The size Feishu measures: the content string as sent. */
export function cardBytes(content: string): number {
  return Buffer.byteLength(content, 'utf8');
}
