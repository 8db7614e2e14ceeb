import type { ColumnType, Generated } from 'kysely';

/** Row types of every table (see db/migrations). Timestamps are ISO-8601 UTC strings ending in Z. */

export interface KeySequenceRow { prefix: string; last_value: number }
export interface RoutingCursorRow { department_id: string; cursor: number }

export interface UserRow {
  id: string;
  platform: string;
  workspace: string;
  platform_user_id: string;
  name: string | null;
  email: string | null;
  locale: string | null;
  timezone: string | null;
  away_until: string | null;
  is_bot: number;
  created_at: string;
  updated_at: string;
}

export interface DepartmentMemberRow { department_id: string; user_id: string; source: string; updated_at: string }

export interface TicketRow {
  id: string;
  key: string;
  department_id: string;
  home_department_id: string;
  category_id: string;
  priority: string;
  title: string;
  description: string;
  state: string;
  requester_id: string;
  assignee_id: string | null;
  sensitive: number;
  locale: string;
  source_platform: string;
  source_ref: string | null;
  current_leg_id: string | null;
  public_reply_count: number;
  reopen_count: number;
  version: number;
  created_at: string;
  updated_at: string;
  first_response_at: string | null;
  resolved_at: string | null;
  closed_at: string | null;
}

/**
 * The table adds `created_ms`: `created_at` as epoch milliseconds, derived by the database
 * (migration 019), read by the backlog; never written.
 */
export type TicketTable = TicketRow & { created_ms: ColumnType<number, never, never> };

export interface TicketFieldRow { ticket_id: string; field_id: string; value: string }

export interface LegRow {
  id: string;
  ticket_id: string;
  seq: number;
  department_id: string;
  from_department_id: string | null;
  state: string;
  assignee_id: string | null;
  reason: string | null;
  note: string | null;
  return_reason: string | null;
  opened_by: string;
  opened_at: string;
  accepted_at: string | null;
  closed_at: string | null;
}

export interface ClockRow {
  id: string;
  ticket_id: string;
  leg_id: string | null;
  kind: string;
  cycle: number;
  target_ms: number;
  calendar_id: string;
  policy_id: string | null;
  started_at: string;
  elapsed_ms: number;
  running_since: string | null;
  paused_at: string | null;
  due_at: string | null;
  met_at: string | null;
  breached_at: string | null;
  status: string;
  log: string;
  updated_at: string;
}

export interface TimerRow {
  id: string;
  kind: string;
  ticket_id: string | null;
  clock_id: string | null;
  next_action_at: string | null;
  lease_owner: string | null;
  lease_until: string | null;
  payload: string | null;
  updated_at: string;
}

export interface EscalationFiringRow { key: string; clock_id: string; ticket_id: string; cycle: number; level: number; repeat: number; fired_at: string }

export interface AuditEventRow {
  id: string;
  ticket_id: string;
  at: string;
  actor_id: string;
  action: string;
  from_state: string | null;
  to_state: string | null;
  reason: string | null;
  data: string | null;
  event_key: string | null;
  message_ref: string | null;
}

export interface MessageRow {
  id: string;
  ticket_id: string;
  visibility: string;
  author_role: string;
  author_id: string;
  body: string;
  attachments: string;
  origin_platform: string;
  origin_ref: string | null;
  created_at: string;
}

export interface ChatLinkRow {
  platform: string;
  workspace: string;
  channel: string;
  message_id: string;
  ticket_id: string;
  leg_id: string | null;
  role: string;
  card_version: number;
  created_at: string;
  updated_at: string;
}

export interface InboxRow { key: string; received_at: string; result: string | null }

export interface OutboxRow {
  id: string;
  idempotency_key: string;
  ticket_id: string | null;
  ticket_version: number | null;
  platform: string;
  target_kind: string;
  target_id: string;
  event: string;
  payload: string;
  locale: string;
  urgent: number;
  order_key: string;
  status: string;
  attempts: Generated<number>;
  next_attempt_at: string;
  lease_owner: string | null;
  lease_until: string | null;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

/** A received platform payload, stored before its ack (migration 006). */
export interface InboundEventRow {
  id: string;
  platform: string;
  kind: string;
  dedup_key: string;
  payload: string;
  /** 'pending' (to be worked; leased while lease_until is in the future), 'done', 'dead'. */
  status: string;
  attempts: Generated<number>;
  lease_owner: string | null;
  lease_until: string | null;
  last_error: string | null;
  received_at: string;
  finished_at: string | null;
}

export interface SurveyRow { ticket_id: string; user_id: string; score: number; comment: string | null; answered_at: string }
export interface FeedbackRow { id: string; user_id: string; department_id: string | null; text: string; created_at: string }

/** Report rollup (db/migrations/005_report_rollup.ts). */
export interface ReportCellRow {
  day: string;
  department_id: string;
  from_department_id: string;
  category_id: string;
  priority: string;
  created: Generated<number | string>;
  first_responses: Generated<number | string>;
  resolved: Generated<number | string>;
  first_contact: Generated<number | string>;
  closed: Generated<number | string>;
  closed_survey: Generated<number | string>;
  surveys: Generated<number | string>;
  survey_score: Generated<number | string>;
  survey_satisfied: Generated<number | string>;
  audit_resolved: Generated<number | string>;
  audit_reopened: Generated<number | string>;
  legs: Generated<number | string>;
  legs_returned: Generated<number | string>;
  fr_vals: Buffer | null;
  res_vals: Buffer | null;
  accept_vals: Buffer | null;
  duration_vals: Buffer | null;
  /** JSON object: `on:<clock kind>`, `late:<clock kind>`, `reason:<return reason>` → count. */
  tallies: string | null;
}
export interface ReportContributionRow { ticket_id: string; cells: string }
export interface ReportRollupMetaRow { id: string; fingerprint: string; built_at: string }
/** A stored file (migration 012): a chart image, named by the SHA-256 of its bytes. */
export interface DeferredIndexRow { name: string; table_name: string; definition: string; deferred_at: string }

export interface BlobRow { id: string; data: Buffer; created_at: string }
/** An outbox row that shows a blob (migration 012). */
export interface OutboxBlobRow { outbox_id: string; blob_id: string }

export interface Database {
  key_sequences: KeySequenceRow;
  routing_cursors: RoutingCursorRow;
  users: UserRow;
  department_members: DepartmentMemberRow;
  tickets: TicketTable;
  ticket_fields: TicketFieldRow;
  legs: LegRow;
  clocks: ClockRow;
  timers: TimerRow;
  escalation_firings: EscalationFiringRow;
  audit_events: AuditEventRow;
  messages: MessageRow;
  chat_links: ChatLinkRow;
  inbox: InboxRow;
  outbox: OutboxRow;
  inbound_events: InboundEventRow;
  surveys: SurveyRow;
  feedback: FeedbackRow;
  report_cells: ReportCellRow;
  report_contributions: ReportContributionRow;
  report_rollup_meta: ReportRollupMetaRow;
  deferred_indexes: DeferredIndexRow;
  blobs: BlobRow;
  outbox_blobs: OutboxBlobRow;
  kb_articles: KbArticleRow;
  kb_tokens: KbTokenRow;
  kb_audit: KbAuditRow;
  kb_deflections: KbDeflectionRow;
  kb_deflection_articles: KbDeflectionArticleRow;
  rate_limits: RateLimitRow;
  intake_files: IntakeFileRow;
  ticket_watchers: TicketWatcherRow;
  user_settings: UserSettingsRow;
  outbox_quiet_holds: OutboxQuietHoldRow;
}

/** Knowledge base (migration 010). */
export interface KbArticleRow {
  id: string;
  slug: string;
  title: string;
  body: string;
  category_id: string | null;
  lang: string;
  /** JSON array of strings. */
  tags: string;
  owner_id: string | null;
  /** active | retired */
  state: string;
  content_hash: string;
  created_at: string;
  updated_at: string;
}

export interface KbTokenRow {
  token: string;
  article_id: string;
  weight: number;
  /** The article's language (copied for the covering search index). */
  lang: string;
}

export interface KbAuditRow {
  id: string;
  article_id: string;
  at: string;
  actor_id: string;
  action: string;
  data: string | null;
}

/** Deflection: articles offered before a ticket is raised (migration 013). */
export interface KbDeflectionRow {
  id: string;
  created_at: string;
  /** api | web | slack | feishu */
  source: string;
  integration_id: string | null;
  requester_id: string | null;
  category_id: string;
  department_id: string;
  lang: string;
  /** shown | solved | escalated */
  outcome: string;
  outcome_at: string | null;
  /** The article that solved it (outcome solved). */
  article_id: string | null;
  /** The ticket raised after "still need help" (outcome escalated). */
  ticket_id: string | null;
}

export interface KbDeflectionArticleRow {
  deflection_id: string;
  article_id: string;
  position: number;
}

/** A fixed rate-limit window per key, shared by every replica (migration 013). */
export interface RateLimitRow {
  key: string;
  window_start: string;
  count: number;
}

/** A file uploaded with the web form (migration 013); `data` is base64. */
export interface IntakeFileRow {
  id: string;
  integration_id: string;
  name: string;
  content_type: string;
  size: number;
  data: string;
  created_at: string;
}
/** Workflow automation (migration 014, issue 17). */
export interface TicketWatcherRow { ticket_id: string; user_ref: string; added_by: string; added_at: string }
export interface UserSettingsRow { user_id: string; quiet_start: string | null; quiet_end: string | null; quiet_zone: string | null; updated_at: string }
export interface OutboxQuietHoldRow { outbox_id: string; held_at: string; held_until: string }
