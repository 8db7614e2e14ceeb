import type { App } from '@slack/bolt';
import { dispatch } from '../chat/dispatcher';
import { renderAnswer, type SlackReplyTarget } from './chat';
import { SLASH_COMMAND } from './ids';
import { slashCommand } from './payloads';
import { fromSlackText } from './text';
import { afterAck, type SlackRuntime } from './runtime';

/**
 * `/ticket …`: translated into a command intent; parsing, permissions and answers are the chat
 * layer's (src/chat/commands.ts, src/chat/dispatcher.ts), the same as Feishu's `/ticket` and `/工单`.
 * Command text arrives Slack-escaped; the chat layer gets the plain text the person wrote.
 */
export function registerCommands(app: App, rt: SlackRuntime): void {
  app.command(SLASH_COMMAND, afterAck(rt, async ({ ack, body, respond }) => {
    await ack();
    const cmd = slashCommand.parse(body);
    const actor = await rt.identities.resolve(cmd.user_id);
    const target: SlackReplyTarget = { slackUserId: cmd.user_id, channel: cmd.channel_id, respond: cmd.response_url ? respond : undefined, triggerId: cmd.trigger_id };
    const answer = await dispatch(
      { ctx: rt.ctx, dashboard: rt.dashboard },
      { kind: 'command', actor, platform: 'slack', dedupKey: `slack:command:${cmd.trigger_id}`, replyTarget: target, text: fromSlackText(cmd.text) },
    );
    await renderAnswer(rt, actor, target, answer);
  }));
}
