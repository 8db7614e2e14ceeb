/** Stable error codes. The chat layer turns each into a message in the user's language (chat/i18n). */
export const ERROR_CODES = [
  'ticket.not_found',
  'ticket.already_assigned',
  'ticket.already_closed',
  'ticket.already_resolved',
  'ticket.not_resolved',
  'ticket.not_assignee',
  'ticket.not_requester',
  'ticket.not_member',
  'ticket.not_allowed',
  'ticket.invalid_transition',
  'ticket.not_waiting',
  'ticket.unknown_category',
  'ticket.missing_fields',
  'ticket.invalid_input',
  'ticket.unknown_department',
  'ticket.same_department',
  'ticket.no_pending_leg',
  'ticket.leg_not_pending',
  'ticket.reason_required',
  'ticket.note_required',
  'ticket.already_rated',
  'ticket.bad_score',
  'ticket.not_assignable',
  'ticket.same_priority',
  'ticket.conflict',
  // issue 17
  'ticket.same_category',
  'quiet.invalid',
  // Reads (the permission matrix in ./access): one neutral answer whether or not the key exists.
  'ticket.not_visible',
  'access.department_denied',
  'access.no_department',
  'access.which_department',
  'access.period_too_long',
  // Deflection (issue 18)
  'kb.unknown_deflection',
  'kb.deflection_closed',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** An expected, user-facing failure with a stable code and parameters for the message. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly params: Record<string, string | number> = {},
  ) {
    super(code);
    this.name = 'DomainError';
  }
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: { code: ErrorCode; params: Record<string, string | number> } };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = (code: ErrorCode, params: Record<string, string | number> = {}): Result<never> => ({ ok: false, error: { code, params } });
