import { describeSlackError, type SlackRuntime } from './runtime';
import { channelOf } from '../domain/platforms';

/**
 * Departments with `members: channel` are the people in their Slack channel (minus bots). Synced
 * at start, periodically, and when someone joins or leaves.
 */
export async function syncChannelMembers(rt: SlackRuntime, departmentId: string, channel: string): Promise<void> {
  try {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await rt.client.conversations.members({ channel, limit: 1000, ...(cursor ? { cursor } : {}) });
      for (const id of page.members ?? []) if (id !== rt.botUserId) ids.push(`slack:${id}`);
      cursor = page.response_metadata?.next_cursor || undefined;
    } while (cursor);
    await rt.ports.syncDepartmentMembers(departmentId, ids);
    rt.logger.debug({ department: departmentId, members: ids.length }, 'Slack: department members synced');
  } catch (err) {
    rt.logger.warn({ department: departmentId, channel, err: describeSlackError(err) }, 'Slack: could not read the channel members');
  }
}

export async function syncAllChannelMembers(rt: SlackRuntime): Promise<void> {
  for (const d of rt.ctx.config.departments.values()) {
    const channel = channelOf(d, 'slack');
    if (d.members === 'channel' && channel) await syncChannelMembers(rt, d.id, channel);
  }
}
