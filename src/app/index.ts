/** The core's use cases: one file each; the chat layers call only these. */
export { createTicket, type CreateTicketCommand, type TicketSource } from './createTicket';
export { claimTicket } from './claimTicket';
export { acceptLeg } from './acceptLeg';
export { assignTicket } from './assignTicket';
export { changePriority } from './changePriority';
export { addNote, replyToRequester, requestInfo, requesterReply } from './messages';
export { handOff } from './handOff';
export { returnLeg } from './returnLeg';
export { resolveTicket, confirmFixed, closeTicket, reopenTicket, rateTicket, markSensitive, extendClock } from './closing';
export { submitFeedback } from './submitFeedback';
export { ensureUser, setLanguage, userLocale } from './users';
export { getTicketView, getAuditTrail, listMine, listQueue, userRoles, departmentsOf, type TicketView, type QueueItem } from './queries';
export { createTimerHandler, type TimerHandler } from './timers';
export type { UseCaseResult } from './runner';
export type { AppContext, CommandMeta, Attachment, TimeSource } from './context';
// issue 17: workflow automation
export { recategoriseTicket, MISCATEGORISED, type RecategoriseCommand, type RecategoriseOutcome } from './recategoriseTicket';
export { escalateTicket, MANUAL_ESCALATION, type EscalateCommand, type EscalateOutcome } from './escalateTicket';
export { editTicket, type EditTicketCommand } from './editTicket';
export { setQuietHours, getQuietHours, type SetQuietHoursCommand, type QuietHoursSetting } from './quietHours';
export { loadTicketHistory, userNames, type TicketHistory } from './history';
