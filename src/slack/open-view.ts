import { t } from '../chat/i18n';
import { textMessage, type ModalView } from './presenters';
import { replyPrivately, slackErrorCode, type Actor, type SlackRuntime } from './runtime';

/** views.open answers these when the trigger_id is too old (3 s), used, or not one Slack knows. */
const TRIGGER_ERRORS = new Set(['expired_trigger_id', 'exchanged_trigger_id', 'invalid_trigger_id']);

/**
 * Opens a modal. A trigger_id lives 3 seconds (https://api.slack.com/interactivity/handling#modal_responses):
 * under load the form can miss it, and Slack shows the person nothing. Then we say so in a DM and
 * ask them to click again, instead of leaving it to the log. Returns whether the modal opened.
 */
export async function openView(rt: SlackRuntime, actor: Actor, triggerId: string | undefined, view: ModalView): Promise<boolean> {
  if (!triggerId) return false;
  try {
    await rt.client.views.open({ trigger_id: triggerId, view: view as never });
    return true;
  } catch (err) {
    const code = slackErrorCode(err);
    if (!code || !TRIGGER_ERRORS.has(code)) throw err;
    rt.logger.warn({ code, callbackId: view.callback_id }, 'Slack: the modal missed its trigger_id; the person was asked to click again');
    await replyPrivately(rt, { slackUserId: actor.slackUserId }, textMessage(t(actor.locale, 'ui.form.expired')));
    return false;
  }
}
