import type { ChatPlatform } from '../domain/platforms';
/**
 * Durable intake, as the platform layers see it (slack/ and feishu/ never import storage or jobs):
 * a received payload is admitted (written to the database) before it is acknowledged, worked, and
 * finished. A platform's retry of a request already admitted is recognised by its dedup key.
 * jobs/inbound.ts implements it on the `inbound_events` table; main.ts wires the two together.
 */

export type IntakePlatform = ChatPlatform;

export interface InboundPayload {
  platform: IntakePlatform;
  /** What it is, for logs and metrics: `command`, `block_actions`, `event`, `card.action.trigger`, … */
  kind: string;
  /** Same request, same key: Slack's event_id or trigger_id, Feishu's event_id. */
  dedupKey: string;
  /** The payload as verified (Slack's parsed body, Feishu's decrypted envelope). */
  payload: unknown;
}

export type Admission =
  /** Stored and leased to this process: work it, then `finish`. */
  | { fresh: true; id: string; finish(error?: unknown): Promise<void> }
  /** Already stored (a retry): acknowledge it, do not work it again. */
  | { fresh: false };

export interface DurableIntake {
  /** Writes the payload (one insert). Throws IntakeClosed while the process is stopping. */
  admit(input: InboundPayload): Promise<Admission>;
}

/** admit() while stopping: the edge answers without an ack so the platform tries again elsewhere. */
export class IntakeClosed extends Error {
  constructor() {
    super('intake closed: the process is stopping');
  }
}
