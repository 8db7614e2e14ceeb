import { z } from 'zod';
import { FORM_IDS } from '../chat/forms';

/**
 * What a card control carries back in `action.value`. Short keys keep cards small (Feishu limits a
 * card to 30 KB). `v` is the ticket version the card showed: with the operator and message it
 * makes a double click one event. `fid` names one form instance: submitting it twice is one event.
 */
export const CARD_BUTTONS = ['claim', 'priority', 'take_over', 'confirm', 'reopen', 'show', 'history'] as const;
/** `new` and the forms of src/chat/forms.ts; `survey` is the old name of `rate` (cards already sent carry it). */
export const FORM_KINDS = ['new', ...FORM_IDS, 'survey'] as const;
export type FormKind = (typeof FORM_KINDS)[number];

export const actionValueSchema = z.discriminatedUnion('a', [
  /** A button or select that acts at once. */
  z.object({ a: z.enum(CARD_BUTTONS), t: z.string().min(1), v: z.number().int().optional() }),
  /** A "…" button: sends the user a form for this ticket. */
  z.object({ a: z.literal('form'), f: z.enum(FORM_KINDS), t: z.string().min(1), v: z.number().int().optional() }),
  /** A form's submit button. */
  z.object({ a: z.literal('submit'), f: z.enum(FORM_KINDS), fid: z.string().min(1), t: z.string().optional(), cat: z.string().optional(), src: z.string().optional() }),
  /** "Which ticket is this about?" (src/chat/dispatcher.ts): a ticket id or `new`, the message's key and text. */
  z.object({ a: z.literal('which'), c: z.string().min(1), k: z.string().min(1), x: z.string() }),
  /**
   * Knowledge base (issue 18, src/chat/deflection.ts): `solved` / `still` answer offer `d` (`r`: the
   * article that solved it); `send` sends article `r` as the reply on ticket `t` (card version `v`).
   */
  z.object({ a: z.literal('kb'), k: z.enum(['solved', 'still', 'send']), d: z.string().optional(), r: z.string().optional(), t: z.string().optional(), v: z.number().int().optional() }),
  /** A category select of the new-ticket form changed (cascading selects). */
  z.object({
    a: z.literal('cat'),
    lvl: z.number().int().min(1).max(3),
    path: z.array(z.string()).max(3),
    fid: z.string().min(1),
    /** Prefilled title and description (quick ticket, ticket from a message), kept across the cascade. */
    ttl: z.string().optional(),
    pre: z.string().optional(),
    /** The message a ticket is raised from. */
    src: z.string().optional(),
  }),
  /** A category select of the Change category… form changed (issue 17): the ticket's id, key and title ride along. */
  z.object({
    a: z.literal('rcat'),
    lvl: z.number().int().min(1).max(3),
    path: z.array(z.string()).max(3),
    fid: z.string().min(1),
    t: z.string().min(1),
    k: z.string(),
    ttl: z.string(),
  }),
]);

export type ActionValue = z.infer<typeof actionValueSchema>;
