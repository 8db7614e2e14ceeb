import type { FetchOutcome, FileRef, FileSource } from '../app/files';
import { toApiError, type FeishuApi, type FeishuFileType } from './api';

/**
 * Feishu as a source of files (issue 17 item 5): a file or image of a message the bot saw, read
 * with GET /open-apis/im/v1/messages/:message_id/resources/:file_key?type=file|image.
 */
/** The message or resource is gone, or the bot may not read it: retrying cannot help. */
const GONE_CODES = new Set([230011, 234003, 234043, 230002, 231003, 234004, 234009]);

export function feishuFileSource(api: FeishuApi): FileSource {
  return {
    platform: 'feishu',
    async fetch(ref: FileRef, maxBytes: number): Promise<FetchOutcome> {
      if (!ref.messageId) return { ok: false, reason: 'gone', detail: 'no message id to read the Feishu file through' };
      try {
        const read = await api.readResource(ref.messageId, ref.fileId, ref.kind ?? 'file', maxBytes);
        if (!read.ok) return { ok: false, reason: 'too_large', size: read.size };
        return { ok: true, file: { name: ref.name, bytes: read.bytes, contentType: read.contentType } };
      } catch (err) {
        const e = toApiError(err);
        if (GONE_CODES.has(e.code)) return { ok: false, reason: 'gone', detail: e.message };
        throw e;
      }
    },
  };
}

/** im/v1/files `file_type` by the name's extension (anything else is a `stream`). */
export function feishuFileType(name: string): FeishuFileType {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase() ?? '';
  if (ext === 'pdf') return 'pdf';
  if (ext === 'doc' || ext === 'docx') return 'doc';
  if (ext === 'xls' || ext === 'xlsx') return 'xls';
  if (ext === 'ppt' || ext === 'pptx') return 'ppt';
  if (ext === 'mp4') return 'mp4';
  if (ext === 'opus') return 'opus';
  return 'stream';
}

/** Feishu's image upload takes at most 10 MB of a format it recognises; other pictures go as files. */
export const FEISHU_IMAGE_MAX_BYTES = 10 * 1024 * 1024;

export function isSendableImage(b: Buffer): boolean {
  if (b.length === 0 || b.length > FEISHU_IMAGE_MAX_BYTES) return false;
  const starts = (...bytes: number[]) => bytes.every((x, i) => b[i] === x);
  return (
    starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a) ||
    starts(0xff, 0xd8, 0xff) ||
    b.subarray(0, 4).toString('latin1') === 'GIF8' ||
    (b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP')
  );
}
