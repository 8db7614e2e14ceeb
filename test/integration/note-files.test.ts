import { addNote, createTicket, replyToRequester } from '../../src/app';
import type { AppContext } from '../../src/app/context';
import { noteFilesSinceLastReply, pickNoteFiles } from '../../src/app/files';
import type { Storage } from '../../src/storage/database';
import { as, ManualTime, seedUsers, testContext } from '../support/app';
import { storageVariants } from '../support/storage';

/**
 * What Reply… offers (issue 17 item 5): the files of internal notes since the last public reply,
 * and only those can be picked — a forged value names nothing.
 */
describe.each(storageVariants())('note files offered to a reply ($name)', (variant) => {
  let storage: Storage;
  let ctx: AppContext;
  let time: ManualTime;
  let u: Record<string, string>;
  beforeEach(async () => {
    storage = await variant.open();
    time = new ManualTime(new Date('2026-03-02T02:00:00Z'));
    ctx = testContext(storage, time);
    u = await seedUsers(ctx, [
      { platform: 'slack', id: 'UREQ', name: 'Rita', locale: 'en' },
      { platform: 'slack', id: 'UIT1', name: 'Alan' },
    ]);
  });
  afterEach(async () => {
    await storage.close();
  });

  const file = (id: string, name: string) => ({ name, platform: 'slack' as const, fileId: id, channel: 'C0IT' });

  it('offers the notes\' files since the last public reply, in order; picks only among them', async () => {
    const created = await createTicket(ctx, { meta: as(u.UREQ!, 'e1'), categoryId: 'no-code', title: 'No code', description: '', fields: { account: 'a', device: 'b' }, attachments: [file('F0REQ', 'req.png')] });
    if (!created.ok) throw new Error(created.error.code);
    const key = created.value.ticket.key;
    const note = (id: string, name: string, e: string) => {
      time.advance(60_000);
      return addNote(ctx, { meta: as(u.UIT1!, e), ticket: key, body: '', attachments: [file(id, name)] });
    };
    expect((await note('F0OLD', 'old.log', 'e2')).ok).toBe(true);
    time.advance(60_000);
    expect((await replyToRequester(ctx, { meta: as(u.UIT1!, 'e3'), ticket: key, body: 'looking' })).ok).toBe(true);
    expect((await note('F0A', 'a.pdf', 'e4')).ok).toBe(true);
    expect((await note('F0B', 'b.pdf', 'e5')).ok).toBe(true);

    const offered = await noteFilesSinceLastReply(ctx, key);
    // The requester's own file is public already; the note before the reply is no longer offered.
    expect(offered.map((f) => f.attachment.name)).toEqual(['a.pdf', 'b.pdf']);
    expect(await noteFilesSinceLastReply(ctx, created.value.ticket.id)).toEqual(offered);

    expect((await pickNoteFiles(ctx, key, [offered[1]!.value])).map((a) => a.name)).toEqual(['b.pdf']);
    const messages = await ctx.db.selectFrom('messages').select('id').where('visibility', '=', 'internal').execute();
    const forged = [`${messages[0]!.id}:0`, 'nope:0', `${offered[0]!.value.split(':')[0]}:7`];
    expect(await pickNoteFiles(ctx, key, forged)).toEqual([]);
    expect(await pickNoteFiles(ctx, 'IT-9999', [offered[0]!.value])).toEqual([]);
  });
});
