/**
 * Block Kit as Slack checks it: the rules a real workspace enforces on every method that takes
 * blocks or views (chat.postMessage / postEphemeral / update, views.open / push / update / publish,
 * response_url, files.completeUploadExternal). Each rule names the doc it comes from. Used by the
 * fake Slack (which answers `invalid_blocks` / `invalid_arguments` like Slack) and by the
 * presenter conformance suite. A rule is only here when the doc states it.
 */

export interface Violation {
  path: string;
  rule: string;
  doc: string;
}

const DOC = {
  blocks: 'https://api.slack.com/reference/block-kit/blocks',
  section: 'https://api.slack.com/reference/block-kit/blocks#section',
  header: 'https://api.slack.com/reference/block-kit/blocks#header',
  context: 'https://api.slack.com/reference/block-kit/blocks#context',
  actions: 'https://api.slack.com/reference/block-kit/blocks#actions',
  input: 'https://api.slack.com/reference/block-kit/blocks#input',
  divider: 'https://api.slack.com/reference/block-kit/blocks#divider',
  text: 'https://api.slack.com/reference/block-kit/composition-objects#text',
  option: 'https://api.slack.com/reference/block-kit/composition-objects#option',
  button: 'https://api.slack.com/reference/block-kit/block-elements#button',
  staticSelect: 'https://api.slack.com/reference/block-kit/block-elements#static_select',
  usersSelect: 'https://api.slack.com/reference/block-kit/block-elements#users_select',
  overflow: 'https://api.slack.com/reference/block-kit/block-elements#overflow',
  textInput: 'https://api.slack.com/reference/block-kit/block-elements#input',
  numberInput: 'https://api.slack.com/reference/block-kit/block-elements#number',
  fileInput: 'https://api.slack.com/reference/block-kit/block-elements#file_input',
  views: 'https://api.slack.com/reference/surfaces/views',
  postMessage: 'https://api.slack.com/methods/chat.postMessage#arg_blocks',
  text4k: 'https://api.slack.com/methods/chat.postMessage#truncating',
} as const;

/** Where blocks are shown: the block types each surface takes differ (blocks reference, "Available in surfaces"). */
export type Surface = 'message' | 'modal' | 'home';

const BLOCK_SURFACES: Record<string, Surface[]> = {
  actions: ['message', 'modal', 'home'],
  context: ['message', 'modal', 'home'],
  divider: ['message', 'modal', 'home'],
  file: ['message'],
  header: ['message', 'modal', 'home'],
  image: ['message', 'modal', 'home'],
  input: ['message', 'modal', 'home'],
  markdown: ['message'],
  rich_text: ['message', 'modal', 'home'],
  section: ['message', 'modal', 'home'],
  video: ['message', 'modal', 'home'],
};

/** Elements each block takes (blocks reference: "elements" / "element" / "accessory"). */
const ACTIONS_ELEMENTS = new Set(['button', 'checkboxes', 'datepicker', 'datetimepicker', 'multi_static_select', 'multi_external_select', 'multi_users_select', 'multi_conversations_select', 'multi_channels_select', 'overflow', 'radio_buttons', 'rich_text_input', 'static_select', 'external_select', 'users_select', 'conversations_select', 'channels_select', 'timepicker', 'workflow_button']);
const INPUT_ELEMENTS = new Set(['checkboxes', 'datepicker', 'datetimepicker', 'email_text_input', 'file_input', 'multi_static_select', 'multi_external_select', 'multi_users_select', 'multi_conversations_select', 'multi_channels_select', 'number_input', 'plain_text_input', 'radio_buttons', 'rich_text_input', 'static_select', 'external_select', 'users_select', 'conversations_select', 'channels_select', 'timepicker', 'url_text_input']);
const ACCESSORY_ELEMENTS = new Set(['button', 'checkboxes', 'datepicker', 'image', 'multi_static_select', 'multi_external_select', 'multi_users_select', 'multi_conversations_select', 'multi_channels_select', 'overflow', 'radio_buttons', 'static_select', 'external_select', 'users_select', 'conversations_select', 'channels_select', 'timepicker', 'workflow_button']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
/** Slack counts characters; a string's length in UTF-16 units is the stricter reading (emoji count twice). */
const len = (s: unknown) => (typeof s === 'string' ? s.length : 0);

class Checker {
  readonly out: Violation[] = [];
  fail(path: string, rule: string, doc: string): void {
    this.out.push({ path, rule, doc });
  }

  /** A text object: plain_text or mrkdwn, non-empty, within `max`; `plainOnly` when the field takes plain_text only. */
  text(v: unknown, path: string, max: number, opts: { plainOnly?: boolean } = {}): void {
    if (!isObj(v)) return this.fail(path, 'a text object is required', DOC.text);
    if (v.type !== 'plain_text' && v.type !== 'mrkdwn') return this.fail(`${path}.type`, `text type must be plain_text or mrkdwn, not ${String(v.type)}`, DOC.text);
    if (opts.plainOnly && v.type !== 'plain_text') this.fail(`${path}.type`, 'this field takes plain_text only', DOC.text);
    if (typeof v.text !== 'string' || v.text.length === 0) this.fail(`${path}.text`, 'text must be a non-empty string', DOC.text);
    else if (len(v.text) > max) this.fail(`${path}.text`, `text is ${len(v.text)} characters (max ${max})`, DOC.text);
    if (v.type === 'mrkdwn' && 'emoji' in v) this.fail(`${path}.emoji`, 'emoji is only valid on plain_text', DOC.text);
  }

  options(list: unknown, path: string, min: number, max: number, doc: string): Obj[] {
    if (!Array.isArray(list)) {
      this.fail(path, 'options must be an array', doc);
      return [];
    }
    if (list.length < min || list.length > max) this.fail(path, `${list.length} options (must be ${min}–${max})`, doc);
    const values = new Set<string>();
    list.forEach((o, i) => {
      if (!isObj(o)) return this.fail(`${path}[${i}]`, 'an option object is required', DOC.option);
      this.text(o.text, `${path}[${i}].text`, 75);
      if (typeof o.value !== 'string' || o.value === '') this.fail(`${path}[${i}].value`, 'option value is required', DOC.option);
      else if (len(o.value) > 150) this.fail(`${path}[${i}].value`, `option value is ${len(o.value)} characters (max 150)`, DOC.option);
      else if (values.has(o.value)) this.fail(`${path}[${i}].value`, `duplicate option value ${o.value}`, DOC.option);
      else values.add(o.value);
      if (o.description !== undefined) this.text(o.description, `${path}[${i}].description`, 75, { plainOnly: true });
    });
    return list.filter(isObj);
  }

  actionId(v: Obj, path: string, seen: Set<string>, doc: string): void {
    if (v.action_id === undefined) return;
    if (typeof v.action_id !== 'string' || v.action_id === '' || len(v.action_id) > 255) this.fail(`${path}.action_id`, 'action_id must be 1–255 characters', doc);
    else if (seen.has(v.action_id)) this.fail(`${path}.action_id`, `action_id ${v.action_id} is not unique in its block`, DOC.blocks);
    else seen.add(v.action_id);
  }

  element(e: unknown, path: string, seen: Set<string>): void {
    if (!isObj(e)) return this.fail(path, 'an element object is required', DOC.blocks);
    switch (e.type) {
      case 'button':
        this.actionId(e, path, seen, DOC.button);
        this.text(e.text, `${path}.text`, 75, { plainOnly: true });
        if (e.value !== undefined && (typeof e.value !== 'string' || len(e.value) > 2000)) this.fail(`${path}.value`, `button value is ${len(e.value)} characters (max 2000)`, DOC.button);
        if (e.url !== undefined && len(e.url) > 3000) this.fail(`${path}.url`, 'url is over 3000 characters', DOC.button);
        if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') this.fail(`${path}.style`, `style must be primary or danger, not ${String(e.style)}`, DOC.button);
        return;
      case 'static_select':
      case 'multi_static_select': {
        this.actionId(e, path, seen, DOC.staticSelect);
        if (e.placeholder !== undefined) this.text(e.placeholder, `${path}.placeholder`, 150, { plainOnly: true });
        let opts: Obj[];
        if (e.option_groups !== undefined) {
          // Either options or option_groups (up to 100 groups of up to 100 options, a plain_text label ≤ 75).
          if (e.options !== undefined) this.fail(`${path}.options`, 'options and option_groups are mutually exclusive', DOC.staticSelect);
          if (!Array.isArray(e.option_groups) || e.option_groups.length < 1 || e.option_groups.length > 100) {
            this.fail(`${path}.option_groups`, 'option_groups must hold 1–100 groups', DOC.staticSelect);
            return;
          }
          opts = [];
          const values = new Set<string>();
          e.option_groups.forEach((g, i) => {
            if (!isObj(g)) return this.fail(`${path}.option_groups[${i}]`, 'an option group object is required', DOC.staticSelect);
            this.text(g.label, `${path}.option_groups[${i}].label`, 75, { plainOnly: true });
            for (const o of this.options(g.options, `${path}.option_groups[${i}].options`, 1, 100, DOC.staticSelect)) {
              if (typeof o.value === 'string' && values.has(o.value)) this.fail(`${path}.option_groups[${i}]`, `duplicate option value ${o.value}`, DOC.option);
              if (typeof o.value === 'string') values.add(o.value);
              opts.push(o);
            }
          });
        } else opts = this.options(e.options, `${path}.options`, 1, 100, DOC.staticSelect);
        if (isObj(e.initial_option) && !opts.some((o) => o.value === (e.initial_option as Obj).value)) this.fail(`${path}.initial_option`, 'initial_option must be one of the options', DOC.staticSelect);
        return;
      }
      case 'users_select':
      case 'conversations_select':
      case 'channels_select':
        this.actionId(e, path, seen, DOC.usersSelect);
        if (e.placeholder !== undefined) this.text(e.placeholder, `${path}.placeholder`, 150, { plainOnly: true });
        return;
      case 'overflow':
        this.actionId(e, path, seen, DOC.overflow);
        this.options(e.options, `${path}.options`, 1, 5, DOC.overflow);
        return;
      case 'plain_text_input': {
        this.actionId(e, path, seen, DOC.textInput);
        const max = e.max_length;
        if (max !== undefined && (typeof max !== 'number' || max < 1 || max > 3000)) this.fail(`${path}.max_length`, `max_length ${String(max)} (must be 1–3000)`, DOC.textInput);
        if (e.min_length !== undefined && (typeof e.min_length !== 'number' || e.min_length < 0 || e.min_length > 3000)) this.fail(`${path}.min_length`, 'min_length must be 0–3000', DOC.textInput);
        if (typeof e.initial_value === 'string' && len(e.initial_value) > (typeof max === 'number' ? max : 3000)) this.fail(`${path}.initial_value`, `initial_value is ${len(e.initial_value)} characters, over max_length`, DOC.textInput);
        if (e.placeholder !== undefined) this.text(e.placeholder, `${path}.placeholder`, 150, { plainOnly: true });
        return;
      }
      case 'number_input':
        this.actionId(e, path, seen, DOC.numberInput);
        if (typeof e.is_decimal_allowed !== 'boolean') this.fail(`${path}.is_decimal_allowed`, 'is_decimal_allowed is required', DOC.numberInput);
        return;
      case 'file_input':
        this.actionId(e, path, seen, DOC.fileInput);
        if (e.max_files !== undefined && (typeof e.max_files !== 'number' || e.max_files < 1 || e.max_files > 10)) this.fail(`${path}.max_files`, 'max_files must be 1–10', DOC.fileInput);
        return;
      case 'image':
        if (typeof e.alt_text !== 'string' || e.alt_text === '') this.fail(`${path}.alt_text`, 'alt_text is required', DOC.blocks);
        return;
      default:
        if (typeof e.type !== 'string' || !(ACTIONS_ELEMENTS.has(e.type) || INPUT_ELEMENTS.has(e.type) || ACCESSORY_ELEMENTS.has(e.type))) this.fail(`${path}.type`, `unknown element type ${String(e.type)}`, DOC.blocks);
        this.actionId(e, path, seen, DOC.blocks);
    }
  }

  block(b: unknown, path: string, surface: Surface, blockIds: Set<string>): void {
    if (!isObj(b)) return this.fail(path, 'a block object is required', DOC.blocks);
    const type = String(b.type);
    const surfaces = BLOCK_SURFACES[type];
    if (!surfaces) return this.fail(`${path}.type`, `unknown block type ${type}`, DOC.blocks);
    if (!surfaces.includes(surface)) this.fail(`${path}.type`, `${type} blocks are not available in ${surface} surfaces`, DOC.blocks);
    if (b.block_id !== undefined) {
      if (typeof b.block_id !== 'string' || b.block_id === '' || len(b.block_id) > 255) this.fail(`${path}.block_id`, 'block_id must be 1–255 characters', DOC.blocks);
      else if (blockIds.has(b.block_id)) this.fail(`${path}.block_id`, `block_id ${b.block_id} is not unique`, DOC.blocks);
      else blockIds.add(b.block_id);
    }
    const seen = new Set<string>();
    switch (type) {
      case 'section':
        if (b.text === undefined && b.fields === undefined) this.fail(path, 'a section needs text or fields', DOC.section);
        if (b.text !== undefined) this.text(b.text, `${path}.text`, 3000);
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields) || b.fields.length === 0 || b.fields.length > 10) this.fail(`${path}.fields`, `fields must hold 1–10 items, not ${Array.isArray(b.fields) ? b.fields.length : '?'}`, DOC.section);
          (Array.isArray(b.fields) ? b.fields : []).forEach((f, i) => this.text(f, `${path}.fields[${i}]`, 2000));
        }
        if (b.accessory !== undefined) {
          if (!isObj(b.accessory) || !ACCESSORY_ELEMENTS.has(String(b.accessory.type))) this.fail(`${path}.accessory`, `${String(isObj(b.accessory) ? b.accessory.type : b.accessory)} cannot be a section accessory`, DOC.section);
          else this.element(b.accessory, `${path}.accessory`, seen);
        }
        return;
      case 'header':
        this.text(b.text, `${path}.text`, 150, { plainOnly: true });
        return;
      case 'context':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10) return this.fail(`${path}.elements`, `context holds 1–10 elements, not ${Array.isArray(b.elements) ? b.elements.length : '?'}`, DOC.context);
        b.elements.forEach((e, i) => {
          if (isObj(e) && e.type === 'image') this.element(e, `${path}.elements[${i}]`, seen);
          else this.text(e, `${path}.elements[${i}]`, 3000);
        });
        return;
      case 'actions':
        if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25) return this.fail(`${path}.elements`, `actions holds 1–25 elements, not ${Array.isArray(b.elements) ? b.elements.length : '?'}`, DOC.actions);
        b.elements.forEach((e, i) => {
          if (!isObj(e) || !ACTIONS_ELEMENTS.has(String(e.type))) this.fail(`${path}.elements[${i}].type`, `${String(isObj(e) ? e.type : e)} is not allowed in actions blocks`, DOC.actions);
          else this.element(e, `${path}.elements[${i}]`, seen);
        });
        return;
      case 'input':
        this.text(b.label, `${path}.label`, 2000, { plainOnly: true });
        if (b.hint !== undefined) this.text(b.hint, `${path}.hint`, 2000, { plainOnly: true });
        if (!isObj(b.element) || !INPUT_ELEMENTS.has(String(b.element.type))) this.fail(`${path}.element`, `${String(isObj(b.element) ? b.element.type : b.element)} is not an input element`, DOC.input);
        else this.element(b.element, `${path}.element`, seen);
        if (b.dispatch_action !== undefined && typeof b.dispatch_action !== 'boolean') this.fail(`${path}.dispatch_action`, 'dispatch_action must be a boolean', DOC.input);
        return;
      case 'divider':
        return;
      case 'markdown':
        if (typeof b.text !== 'string' || b.text === '') this.fail(`${path}.text`, 'markdown text is required', DOC.blocks);
        return;
      default:
        return;
    }
  }

  blocks(blocks: unknown, path: string, surface: Surface): void {
    if (!Array.isArray(blocks)) return this.fail(path, 'blocks must be an array', DOC.blocks);
    const max = surface === 'message' ? 50 : 100;
    if (blocks.length > max) this.fail(path, `${blocks.length} blocks (max ${max} in a ${surface})`, DOC.blocks);
    const ids = new Set<string>();
    blocks.forEach((b, i) => this.block(b, `${path}[${i}]`, surface, ids));
  }
}

/** A message (chat.postMessage, postEphemeral, update, response_url): `text` and/or `blocks`. */
export function validateMessage(args: { text?: unknown; blocks?: unknown }): Violation[] {
  const c = new Checker();
  if (args.blocks !== undefined) c.blocks(args.blocks, 'blocks', 'message');
  else if (typeof args.text !== 'string' || args.text === '') c.fail('text', 'a message needs text or blocks', DOC.postMessage);
  if (typeof args.text === 'string' && args.text.length > 40000) c.fail('text', `text is ${args.text.length} characters (Slack truncates after 40,000)`, DOC.text4k);
  return c.out;
}

/** A view (views.open / push / update: modal; views.publish: home). */
export function validateView(view: unknown): Violation[] {
  const c = new Checker();
  if (!isObj(view)) {
    c.fail('view', 'a view object is required', DOC.views);
    return c.out;
  }
  if (view.type !== 'modal' && view.type !== 'home') c.fail('view.type', `view type must be modal or home, not ${String(view.type)}`, DOC.views);
  const surface: Surface = view.type === 'home' ? 'home' : 'modal';
  c.blocks(view.blocks, 'view.blocks', surface);
  if (view.private_metadata !== undefined && (typeof view.private_metadata !== 'string' || view.private_metadata.length > 3000)) c.fail('view.private_metadata', `private_metadata is ${len(view.private_metadata)} characters (max 3000)`, DOC.views);
  if (view.callback_id !== undefined && (typeof view.callback_id !== 'string' || len(view.callback_id) > 255)) c.fail('view.callback_id', 'callback_id must be at most 255 characters', DOC.views);
  if (view.external_id !== undefined && len(view.external_id) > 255) c.fail('view.external_id', 'external_id must be at most 255 characters', DOC.views);
  if (surface === 'modal') {
    c.text(view.title, 'view.title', 24, { plainOnly: true });
    if (view.submit !== undefined) c.text(view.submit, 'view.submit', 24, { plainOnly: true });
    if (view.close !== undefined) c.text(view.close, 'view.close', 24, { plainOnly: true });
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObj(b) && b.type === 'input');
    if (hasInput && view.submit === undefined) c.fail('view.submit', 'a modal with input blocks needs a submit button', DOC.views);
  }
  return c.out;
}

/** Element types in blocks (for per-element scopes: file_input needs files:read). */
export function elementTypes(blocks: unknown): Set<string> {
  const found = new Set<string>();
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(walk);
    if (!isObj(n)) return;
    if (typeof n.type === 'string') found.add(n.type);
    Object.values(n).forEach(walk);
  };
  walk(blocks);
  return found;
}

/** Slack's answer's `response_metadata.messages` lines for violations (as in invalid_blocks answers). */
export function describe(violations: Violation[]): string[] {
  return violations.map((v) => `[ERROR] ${v.rule} [json-pointer:/${v.path.replace(/\[(\d+)\]/g, '/$1').replace(/\./g, '/')}] (${v.doc})`);
}
