import { createHash } from 'node:crypto';
import type { DbOrTx } from './database';
import type { OutboxRow } from './tables';

/**
 * Files stored once (migration 012): the weekly digest's chart goes to every channel and chat of
 * the digest, so the outbox rows name it (`image.blobId` in the payload, a row in outbox_blobs)
 * instead of each carrying the PNG. `withBlobs` puts the picture back (`image.pngBase64`) into
 * the payloads handed to the senders, so the outbox contract (src/app/outbox.ts) is unchanged for
 * them.
 */

/** Stores the bytes (once: the id is their SHA-256) and returns the id. */
export async function putBlob(db: DbOrTx, data: Buffer, now: string): Promise<string> {
  const id = createHash('sha256').update(data).digest('hex');
  await db.insertInto('blobs').values({ id, data, created_at: now }).onConflict((oc) => oc.column('id').doNothing()).execute();
  return id;
}

/** Records that these outbox rows show the blob (retention keeps a blob while a row names it). */
export async function linkBlob(db: DbOrTx, blobId: string, outboxIds: readonly string[]): Promise<void> {
  if (outboxIds.length === 0) return;
  await db
    .insertInto('outbox_blobs')
    .values(outboxIds.map((outbox_id) => ({ outbox_id, blob_id: blobId })))
    .onConflict((oc) => oc.column('outbox_id').doNothing())
    .execute();
}

/** The rows with the pictures they name put back into their payloads (`image.pngBase64`). */
export async function withBlobs<T extends Pick<OutboxRow, 'id' | 'payload'>>(db: DbOrTx, rows: T[]): Promise<T[]> {
  const naming = rows.filter((r) => r.payload.includes('"blobId"'));
  if (naming.length === 0) return rows;
  const links = await db.selectFrom('outbox_blobs').select(['outbox_id', 'blob_id']).where('outbox_id', 'in', naming.map((r) => r.id)).execute();
  const blobIds = [...new Set(links.map((l) => l.blob_id))];
  const blobs = blobIds.length ? await db.selectFrom('blobs').select(['id', 'data']).where('id', 'in', blobIds).execute() : [];
  const base64 = new Map(blobs.map((b) => [b.id, Buffer.from(b.data).toString('base64')]));
  return rows.map((r) => {
    if (!r.payload.includes('"blobId"')) return r;
    let payload: { image?: { blobId?: string; pngBase64?: string } };
    try {
      payload = JSON.parse(r.payload) as typeof payload;
    } catch {
      return r;
    }
    const png = payload.image?.blobId !== undefined ? base64.get(payload.image.blobId) : undefined;
    // A blob that is gone leaves the payload as it is; the sender refuses it (no picture), as before for a bad image.
    if (!payload.image || png === undefined) return r;
    const { blobId: _blobId, ...image } = payload.image;
    return { ...r, payload: JSON.stringify({ ...payload, image: { ...image, pngBase64: png } }) };
  });
}

/**
 * Retention: drops the references of outbox rows whose payload was trimmed or that are gone, then
 * deletes up to `batch` blobs that nothing references. Returns the blobs deleted.
 */
export async function deleteUnreferencedBlobs(db: DbOrTx, trimmedPayload: string, batch: number): Promise<number> {
  for (;;) {
    const stale = db
      .selectFrom('outbox_blobs as b')
      .select('b.outbox_id')
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('outbox as o').select('o.id').whereRef('o.id', '=', 'b.outbox_id').where('o.payload', '<>', trimmedPayload))))
      .limit(batch);
    const dropped = Number((await db.deleteFrom('outbox_blobs').where('outbox_id', 'in', stale).executeTakeFirst()).numDeletedRows);
    if (dropped < batch) break;
  }
  let deleted = 0;
  for (;;) {
    const orphans = db
      .selectFrom('blobs as x')
      .select('x.id')
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('outbox_blobs as b').select('b.blob_id').whereRef('b.blob_id', '=', 'x.id'))))
      .limit(batch);
    const n = Number((await db.deleteFrom('blobs').where('id', 'in', orphans).executeTakeFirst()).numDeletedRows);
    deleted += n;
    if (n < batch) break;
  }
  return deleted;
}
