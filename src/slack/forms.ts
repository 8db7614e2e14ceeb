import type { ChatReply } from '../chat/dispatcher';
import type { FormId } from '../chat/forms';
import type { Config } from '../config/model';
import type { Locale } from '../domain/types';
import { BLOCK, VIEW } from './ids';
import { inputValue, textOf, type ViewSubmission } from './payloads';
import {
  assignModal,
  closeModal,
  editModal,
  escalateModal,
  recategoriseModal,
  extendModal,
  handOffModal,
  priorityModal,
  rateCommentModal,
  replyModal,
  resolveModal,
  returnModal,
  saveAnswerModal,
  type ModalView,
  type TicketModalMetadata,
} from './presenters';

/**
 * Slack's rendering of the forms of src/chat/forms.ts: one modal per form id, and the mapping
 * between the neutral field names and our block ids. Adding a form = one callback id in ids.ts and
 * one line in each table below.
 */
type ActionForm = Extract<ChatReply, { kind: 'action_form' }>;

/** The modal's callback id of each form. */
export const FORM_VIEW: Record<FormId, string> = {
  reply: VIEW.reply,
  request_info: VIEW.requestInfo,
  assign: VIEW.assign,
  priority: VIEW.priority,
  hand_off: VIEW.handOff,
  return: VIEW.return,
  resolve: VIEW.resolve,
  close: VIEW.close,
  extend: VIEW.extend,
  rate: VIEW.rateComment,
  save_answer: VIEW.saveAnswer,
  escalate: VIEW.escalate,
  edit: VIEW.edit,
  recategorise: VIEW.recategorise,
};

const pairs = (o: { value: string; label: string }[] | undefined) => (o ?? []).map((x) => ({ id: x.value, name: x.label }));

/** The modal of each form. */
export const FORM_MODALS: Record<FormId, (locale: Locale, f: ActionForm, meta: TicketModalMetadata, config: Config) => ModalView> = {
  reply: (lc, f, m) => replyModal(lc, f.ticket, pairs(f.choices.templates), m, VIEW.reply, pairs(f.choices.threadFiles)),
  request_info: (lc, f, m) => replyModal(lc, f.ticket, pairs(f.choices.templates), m, VIEW.requestInfo, pairs(f.choices.threadFiles)),
  // The department's members, the same list Feishu offers (src/chat/forms.ts choices).
  assign: (lc, f, m) => assignModal(lc, f.ticket, pairs(f.choices.assignees), m),
  priority: (lc, f, m) => priorityModal(lc, f.ticket, m),
  hand_off: (lc, f, m) => handOffModal(lc, f.ticket, pairs(f.choices.departments), m),
  return: (lc, f, m) => returnModal(lc, f.ticket, pairs(f.choices.returnReasons), m),
  resolve: (lc, f, m) => resolveModal(lc, f.ticket, m),
  close: (lc, f, m) => closeModal(lc, f.ticket, m),
  extend: (lc, f, m) => extendModal(lc, f.ticket, (f.choices.clocks ?? []).map((c) => c.value), { ...m, clock: f.clock }),
  rate: (lc, f, m) => rateCommentModal(lc, f.ticket, m),
  save_answer: (lc, f, m) => saveAnswerModal(lc, f.ticket, f.choices.initial ?? {}, m),
  escalate: (lc, f, m) => escalateModal(lc, f.ticket, f.choices.priorities ?? [], m),
  edit: (lc, f, m) => editModal(lc, f.ticket, f.choices.draft, m),
  recategorise: (lc, f, m, config) => recategoriseModal(config, lc, f.ticket, f.choices.category ?? { current: '', path: [] }, f.choices.fields ?? [], m),
};

/** Neutral field name → our block id, where they differ. */
const BLOCK_OF: Record<string, string> = {
  body: BLOCK.message,
  reason_id: BLOCK.reasonChoice,
  department: BLOCK.target,
};
const FIELD_OF: Record<string, string> = Object.fromEntries(Object.entries(BLOCK_OF).map(([k, v]) => [v, k]));

type Values = ViewSubmission['view']['state']['values'];

/** A modal's state as neutral values (category selects give `category`: the deepest chosen). */
export function neutralValues(values: Values): Record<string, string> {
  const out: Record<string, string> = {};
  let category: string | undefined;
  for (const blockId of Object.keys(values).sort()) {
    const v = textOf(inputValue(values, blockId));
    if (blockId.startsWith('category_')) {
      if (v) category = v;
      continue;
    }
    out[FIELD_OF[blockId] ?? blockId] = v;
  }
  if (category !== undefined) out.category = category;
  return out;
}

/** The block a neutral field is shown at in this modal, if it has one. */
export function blockOfField(values: Values, field: string): string | undefined {
  const blocks = Object.keys(values);
  if (field === 'category') return blocks.filter((b) => b.startsWith('category_')).pop();
  const mapped = BLOCK_OF[field] ?? field;
  if (blocks.includes(mapped)) return mapped;
  return blocks.includes(BLOCK.field(field)) ? BLOCK.field(field) : undefined;
}

/** The field a failure naming no field of the modal is shown at. */
export const MAIN_BLOCK: Record<FormId | 'new', string> = {
  reply: BLOCK.message,
  request_info: BLOCK.message,
  assign: BLOCK.assignee,
  priority: BLOCK.priority,
  hand_off: BLOCK.reason,
  return: BLOCK.reason,
  resolve: BLOCK.note,
  close: BLOCK.reason,
  extend: BLOCK.duration,
  rate: BLOCK.score,
  save_answer: BLOCK.message,
  escalate: BLOCK.reason,
  edit: BLOCK.title,
  recategorise: BLOCK.category(1),
  new: BLOCK.title,
};
