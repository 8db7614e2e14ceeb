/** Words of the ticket model shared by every layer. */
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];
/** Higher is more pressing; urgent jumps every queue. */
export const PRIORITY_RANK: Record<Priority, number> = { low: 0, normal: 1, high: 2, urgent: 3 };

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];

export const TICKET_STATES = ['new', 'assigned', 'in_progress', 'waiting_on_requester', 'resolved', 'closed'] as const;
export type TicketState = (typeof TICKET_STATES)[number];

export const PLATFORMS = ['slack', 'feishu', 'cli', 'api'] as const;
export type Platform = (typeof PLATFORMS)[number];

export const ROUTING_STRATEGIES = ['claim', 'round_robin', 'least_active', 'on_call'] as const;
export type RoutingStrategy = (typeof ROUTING_STRATEGIES)[number];

export const CLOCK_KINDS = ['first_response', 'next_response', 'resolution', 'leg_accept', 'leg_resolve'] as const;
export type ClockKind = (typeof CLOCK_KINDS)[number];

/** Localised text as written in config: `{ en: ..., zh-CN: ... }`. */
export type LocalizedText = Record<Locale, string>;

/** States of an SLA clock: running, paused (e.g. waiting on the requester), met, or stopped unmet. */
export const CLOCK_STATUSES = ['running', 'paused', 'met', 'stopped'] as const;
export type ClockStatus = (typeof CLOCK_STATUSES)[number];
