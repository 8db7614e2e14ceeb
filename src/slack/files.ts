import type { webApi } from '@slack/bolt';
import type { FetchOutcome, FileRef, FileSource } from '../app/files';
import { slackErrorCode } from './runtime';

/**
 * Slack as a source of files (issue 17 item 5): files.info for the size and url_private, then a
 * GET of url_private_download with the bot token (files:read). Slack answers a request without
 * access with its sign-in page (a redirect or HTML), never the file: that is "gone", not retried.
 */
const GONE_ERRORS = new Set(['file_not_found', 'file_deleted', 'access_denied', 'not_visible', 'missing_scope']);
const DOWNLOAD_TIMEOUT_MS = 120_000;

export function slackFileSource(client: webApi.WebClient): FileSource {
  return {
    platform: 'slack',
    async fetch(ref: FileRef, maxBytes: number): Promise<FetchOutcome> {
      let file: { name?: string; size?: number; mimetype?: string; url_private?: string; url_private_download?: string } | undefined;
      try {
        file = (await client.files.info({ file: ref.fileId })).file as typeof file;
      } catch (err) {
        const code = slackErrorCode(err);
        if (code && GONE_ERRORS.has(code)) return { ok: false, reason: 'gone', detail: code };
        throw err;
      }
      if (typeof file?.size === 'number' && file.size > maxBytes) return { ok: false, reason: 'too_large', size: file.size };
      const url = file?.url_private_download ?? file?.url_private;
      if (!url) return { ok: false, reason: 'gone', detail: 'files.info gave no url_private' };
      const res = await fetch(url, { headers: client.token ? { authorization: `Bearer ${client.token}` } : {}, redirect: 'manual', signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
      if (res.status >= 500 || res.status === 429) {
        await res.body?.cancel().catch(() => undefined);
        throw new Error(`file download: http ${res.status}`);
      }
      const contentType = res.headers.get('content-type') ?? undefined;
      if (res.status !== 200 || contentType?.startsWith('text/html')) {
        await res.body?.cancel().catch(() => undefined);
        return { ok: false, reason: 'gone', detail: `file download: http ${res.status}${res.status === 200 ? ' (sign-in page)' : ''}` };
      }
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const chunk of res.body ?? []) {
        const b = Buffer.from(chunk as Uint8Array);
        total += b.length;
        if (total > maxBytes) {
          await res.body?.cancel().catch(() => undefined);
          return { ok: false, reason: 'too_large', size: total };
        }
        chunks.push(b);
      }
      return { ok: true, file: { name: file?.name ?? ref.name, bytes: Buffer.concat(chunks), contentType: file?.mimetype ?? contentType } };
    },
  };
}
