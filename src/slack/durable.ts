import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { App, type AppOptions, type ReceiverEvent } from '@slack/bolt';
import type { Logger } from 'pino';
import { IntakeClosed, type DurableIntake } from '../chat/intake';

/** What a listener's failure leaves for processEvent to see (Bolt hands errors to app.error and resolves). */
interface Outcome {
  error?: unknown;
}

const outcomes = new AsyncLocalStorage<Outcome>();

/** Called from the app's error handler: marks the payload being worked as failed. */
export function noteListenerFailure(err: unknown): void {
  const outcome = outcomes.getStore();
  // Bolt wraps errors without a code (UnknownError, with the error itself as `original`).
  const original = (err as { original?: unknown } | null | undefined)?.original;
  if (outcome && outcome.error === undefined) outcome.error = original ?? err ?? new Error('listener failed');
}

function isMalformed(err: unknown): boolean {
  return (err as { name?: string } | null | undefined)?.name === 'ZodError';
}

/** Kind and dedup key of a Slack payload (HTTP body or Socket Mode payload; both have the same shape). */
export function slackInboundKey(body: Record<string, unknown>): { kind: string; dedupKey: string } | undefined {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const digest = () => createHash('sha256').update(JSON.stringify(body)).digest('hex').slice(0, 40);
  if (str(body.command)) return { kind: 'command', dedupKey: `slack:command:${str(body.trigger_id) ?? digest()}` };
  const type = str(body.type);
  if (type === 'event_callback') return { kind: 'event', dedupKey: `slack:event:${str(body.event_id) ?? digest()}` };
  // Options requests (block_suggestion) change nothing and must answer in the ack: not stored.
  if (!type || type === 'block_suggestion' || type === 'app_rate_limited') return undefined;
  return { kind: type, dedupKey: `slack:${type}:${str(body.trigger_id) ?? digest()}` };
}

/**
 * Bolt's App with the durable intake at its door. Every receiver (HTTP and Socket Mode) hands each
 * verified request to processEvent; here it is first written to the database (one insert), and only
 * then do the listeners run and may ack. A retry of a stored request is acked and not worked again.
 * Whatever happens in the listeners, the request is acked (an empty 200) once they are done.
 */
export class DurableBolt extends App {
  private intake: DurableIntake | undefined;
  private log: Logger | undefined;

  private malformedText: () => string;

  constructor(options: AppOptions, intake: DurableIntake | undefined, logger: Logger, malformedText: () => string) {
    super(options);
    this.intake = intake;
    this.log = logger;
    this.malformedText = malformedText;
  }

  override async processEvent(event: ReceiverEvent): Promise<void> {
    let acked = false;
    const ack: ReceiverEvent['ack'] = async (response?: unknown) => {
      if (acked) return;
      acked = true;
      await event.ack(response as never);
    };
    const body = event.body as unknown;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      // e.g. a signed `payload=null`: nothing to work on, but Slack gets its answer.
      this.log?.warn({ type: typeof body }, 'Slack: a request without a payload object; acked and ignored');
      await ack();
      return;
    }
    const key = this.intake ? slackInboundKey(body as Record<string, unknown>) : undefined;
    let admission: Awaited<ReturnType<DurableIntake['admit']>> | undefined;
    if (this.intake && key) {
      try {
        admission = await this.intake.admit({ platform: 'slack', kind: key.kind, dedupKey: key.dedupKey, payload: body });
      } catch (err) {
        // Not stored, so not acked: Slack retries events, and a person sees that the command failed.
        if (!(err instanceof IntakeClosed)) this.log?.error({ err: String(err) }, 'Slack: could not store a request; not acknowledged');
        throw err;
      }
      if (!admission.fresh) {
        this.log?.info({ kind: key.kind, retry: event.retryNum }, 'Slack: request already received; acked again');
        await ack();
        return;
      }
    }
    const error = await this.work({ ...event, ack });
    const malformed = isMalformed(error);
    if (!acked && malformed && (body as { type?: unknown }).type === 'view_submission') {
      // The form stays open and says, in place, that it could not be read.
      await ack({ response_action: 'update', view: { type: 'modal', title: { type: 'plain_text', text: 'ticketbot' }, blocks: [{ type: 'section', text: { type: 'plain_text', text: this.malformedText() } }] } });
    }
    if (!acked) await ack();
    if (malformed) await this.tellMalformed(body as Record<string, unknown>);
    if (admission?.fresh) await admission.finish(error);
  }

  /** A payload our schemas refuse: the person is told so (privately, through response_url) instead of silence. */
  private async tellMalformed(body: Record<string, unknown>): Promise<void> {
    const url = typeof body.response_url === 'string' ? body.response_url : undefined;
    this.log?.warn({ type: typeof body.type === 'string' ? body.type : body.command ? 'command' : 'unknown' }, 'Slack: a payload of an unexpected shape; refused');
    if (!url || !/^https?:\/\//.test(url)) return;
    try {
      await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: this.malformedText() }),
        signal: AbortSignal.timeout(5000),
      });
    } catch (err) {
      this.log?.warn({ err: String(err) }, 'Slack: could not answer a malformed request');
    }
  }

  /** Runs the listeners on a payload; resolves with the listener failure, if any. */
  async work(event: ReceiverEvent): Promise<unknown> {
    const outcome: Outcome = {};
    try {
      await outcomes.run(outcome, () => super.processEvent(event));
    } catch (err) {
      outcome.error ??= err ?? new Error('processEvent failed');
    }
    return outcome.error;
  }

  /** Works a stored payload again (no one is waiting for an ack); throws when a listener failed. */
  async replay(payload: unknown): Promise<void> {
    if (typeof payload !== 'object' || payload === null) return;
    const error = await this.work({ body: payload as Record<string, unknown>, ack: async () => undefined });
    if (error !== undefined) throw error;
  }
}
