/**
 * Every Slack identifier the app registers: the command, the shortcut, action ids, view callback
 * ids and the events it listens to. The manifest test checks this list against
 * manifests/slack/manifest.yaml, so add new ones here.
 */
export const SLASH_COMMAND = '/ticket';
export const MESSAGE_SHORTCUT = 'ticket_from_message';

export const ACTION = {
  claim: 'tb_claim',
  assign: 'tb_assign',
  priority: 'tb_priority',
  reply: 'tb_reply',
  handOff: 'tb_hand_off',
  return: 'tb_return',
  resolve: 'tb_resolve',
  menu: 'tb_menu',
  confirm: 'tb_confirm',
  reopen: 'tb_reopen',
  rate: 'tb_rate',
  rateComment: 'tb_rate_comment',
  takeOver: 'tb_take_over',
  reassign: 'tb_reassign',
  extend: 'tb_extend',
  open: 'tb_open',
  newTicket: 'tb_new_ticket',
  completeDraft: 'tb_complete_draft',
  /** "Which ticket is this about?" after a plain DM from a requester with tickets waiting on them. */
  which: 'tb_which',
  /** Category selects in the new-ticket modal (dispatch_action: the next level appears). */
  category: 'tb_category',
  /** Knowledge base (issue 18): "Solved" (`_<n>`: the nth article) and "Still need help" on an offer, "Send as reply" (`_<n>`) and "Save as answer" on a card. */
  kbSolved: 'tb_kb_solved',
  kbStill: 'tb_kb_still',
  kbSend: 'tb_kb_send',
  saveAnswer: 'tb_save_answer',
  /** Issue 17's card row (src/chat/workflow-actions.ts). */
  history: 'tb_history',
  edit: 'tb_edit',
  recategorise: 'tb_recategorise',
  escalate: 'tb_escalate',
  /** Category selects of the Change category… modal (the next level appears). */
  recategoriseCategory: 'tb_recat_category',
} as const;

export const VIEW = {
  newTicket: 'tb_view_new_ticket',
  assign: 'tb_view_assign',
  priority: 'tb_view_priority',
  reply: 'tb_view_reply',
  requestInfo: 'tb_view_request_info',
  handOff: 'tb_view_hand_off',
  return: 'tb_view_return',
  resolve: 'tb_view_resolve',
  close: 'tb_view_close',
  extend: 'tb_view_extend',
  rateComment: 'tb_view_rate_comment',
  saveAnswer: 'tb_view_save_answer',
  escalate: 'tb_view_escalate',
  edit: 'tb_view_edit',
  recategorise: 'tb_view_recategorise',
} as const;

/** Bot events (Events API) the app subscribes to. */
export const BOT_EVENTS = ['app_home_opened', 'message.im', 'message.channels', 'message.groups', 'reaction_added', 'member_joined_channel', 'member_left_channel'] as const;

/** Message metadata type on every message the bot posts: lets it recognise (and reconcile) its own messages. */
export const OUTBOX_METADATA_TYPE = 'ticketbot_outbox';

/**
 * Block id carried by the first block of a message that cannot have metadata (a file share posted
 * by files.completeUploadExternal): the same reconciliation tag, invisible to readers.
 */
export const outboxBlockId = (outboxId: string): string => `${OUTBOX_METADATA_TYPE}:${outboxId}`;

/** Block ids of the new-ticket modal. */
export const BLOCK = {
  category: (level: number) => `category_${level}`,
  priority: 'priority',
  title: 'title',
  description: 'description',
  field: (id: string) => `field_${id}`,
  files: 'files',
  threadFiles: 'thread_files',
  assignee: 'assignee',
  reason: 'reason',
  reasonChoice: 'reason_choice',
  template: 'template',
  message: 'message',
  target: 'target',
  note: 'note',
  clock: 'clock',
  duration: 'duration',
  score: 'score',
  comment: 'comment',
  tags: 'tags',
} as const;
