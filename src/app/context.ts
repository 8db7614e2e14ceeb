import type { Logger } from 'pino';
import type { Config } from '../config/model';
import type { BusinessCalendar } from '../domain/calendar';
import type { Platform } from '../domain/types';
import type { Db, DialectName } from '../storage/database';
import type { ReportRunner } from '../reports/runner';

/** Time comes from here, never from Date.now() in the core, so tests can move it. */
export interface TimeSource {
  now(): Date;
}

export const systemTime: TimeSource = { now: () => new Date() };

/** Everything a use case needs; built once in main.ts (or a test). */
export interface AppContext {
  db: Db;
  dialect: DialectName;
  config: Config;
  calendars: Map<string, BusinessCalendar>;
  time: TimeSource;
  logger: Logger;
  /** New unique text ids (sortable by creation). */
  newId(): string;
  /** Where report work runs (worker threads in production, issue 16); unset: inline on `db`. */
  reports?: ReportRunner | undefined;
}

/** Who asked, and which inbound event asked (its key makes the command idempotent). */
export interface CommandMeta {
  /** users.id of the actor, or 'system' for automation. */
  actorId: string;
  /** Unique key of the inbound event, e.g. `slack:event:Ev123` or `feishu:action:<token>`. */
  eventKey?: string | undefined;
  platform: Platform;
  /** Link or id of the platform message that caused this, kept in the audit row. */
  messageRef?: string | undefined;
}

export const SYSTEM_ACTOR = 'system';

/** A file attached to a note, reply or ticket: a link or a platform file reference. */
export interface Attachment {
  name: string;
  url?: string | undefined;
  platform?: Platform | undefined;
  fileId?: string | undefined;
  /** Feishu: the message holding the file (its resources are read through it) and whether it is an image. */
  messageId?: string | undefined;
  kind?: 'file' | 'image' | undefined;
  /** The conversation (channel, chat) the file was posted in. */
  channel?: string | undefined;
}
