import pino from 'pino';
import { parseConfigText } from '../../src/config/load';
import { Scheduler } from '../../src/jobs/scheduler';
import { ensureRecurringJobs } from '../../src/jobs/recurring';
import { collectMetrics, renderPrometheus } from '../../src/jobs/prometheus';
import { applyRetention, retentionJob, TRIMMED_PAYLOAD } from '../../src/jobs/retention';
import { linkBlob, putBlob, withBlobs } from '../../src/storage/blobs';
import { pendingOutboxRow } from '../../src/storage/repos/journal';
import type { Storage } from '../../src/storage/database';
import { REPORT_CONFIG_YAML } from '../fixtures/reports';
import { ManualTime } from '../support/app';
import { firingHandler } from '../fixtures/scheduler-test-handler';
import { storageVariants } from '../support/storage';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-10T03:30:00.000Z'); // the job's default time, 03:30 UTC
const ago = (days: number) => new Date(NOW - days * DAY).toISOString();

describe.each(storageVariants())('retention on $name', (variant) => {
  let storage: Storage;
  beforeEach(async () => {
    storage = await variant.open();
  });
  afterEach(async () => {
    await storage.close();
  });

  it('the daily job deletes old inbox keys and trims old sent outbox bodies in small batches, keeping the rows', async () => {
    const parsed = parseConfigText(`${REPORT_CONFIG_YAML}\nretention: { inbox_days: 30, sent_outbox_days: 14, batch: 2 }\n`);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    const config = parsed.config;
    await storage.db
      .insertInto('inbox')
      .values([40, 35, 31, 30.5, 29, 1].map((d, i) => ({ key: `k${i}-${d}`, received_at: ago(d), result: null })))
      .execute();
    const outbox = (id: string, status: string, sentDaysAgo: number | null) => ({
      ...pendingOutboxRow({ id, idempotency_key: id, platform: 'slack', target_kind: 'channel', target_id: 'C1', event: 'report.weekly_digest', locale: 'en', order_key: 'o', payload: '{"image":"iVBORw0KGgo…"}' }, ago(60)),
      status,
      sent_at: sentDaysAgo === null ? null : ago(sentDaysAgo),
    });
    await storage.db.insertInto('outbox').values([outbox('o1', 'sent', 40), outbox('o2', 'sent', 20), outbox('o3', 'sent', 15), outbox('o4', 'sent', 13), outbox('o5', 'pending', null), outbox('o6', 'failed', null)]).execute();

    const time = new ManualTime(new Date(NOW - DAY)); // yesterday's run slot has passed; the next is NOW
    const job = retentionJob({ db: storage.db, config, logger: pino({ level: 'silent' }) });
    await ensureRecurringJobs(storage.db, [job], time.now().toISOString());
    const scheduler = new Scheduler({ db: storage.db, dialect: storage.dialect, owner: 'me', tickMs: 1000, batchSize: 10, leaseMs: 30_000, time, logger: pino({ level: 'silent' }), handler: firingHandler(), jobs: [job] });
    time.set(new Date(NOW - 60_000).toISOString());
    expect(await scheduler.tickOnce()).toMatchObject({ processed: 0 }); // not yet
    expect(await storage.db.selectFrom('inbox').select('key').execute()).toHaveLength(6);

    time.set(new Date(NOW).toISOString());
    expect(await scheduler.tickOnce()).toMatchObject({ processed: 1 });
    expect((await storage.db.selectFrom('inbox').select('key').orderBy('key').execute()).map((r) => r.key)).toEqual(['k4-29', 'k5-1']);
    const rows = await storage.db.selectFrom('outbox').select(['id', 'payload']).orderBy('id').execute();
    expect(rows.map((r) => [r.id, r.payload === TRIMMED_PAYLOAD])).toEqual([['o1', true], ['o2', true], ['o3', true], ['o4', false], ['o5', false], ['o6', false]]);

    const text = renderPrometheus(await collectMetrics(storage.db, time.now().toISOString()));
    expect(text).toContain('ticketbot_table_rows{table="inbox"} 2\n');
    expect(text).toContain('ticketbot_table_rows{table="outbox"} 6\n');
  });

  it('a chart shown by several rows is stored once and deleted when no untrimmed row shows it any more', async () => {
    const config = parsedConfig(`${REPORT_CONFIG_YAML}\nretention: { sent_outbox_days: 14, batch: 1 }\n`);
    const png = Buffer.from('\x89PNG fake chart bytes');
    const other = Buffer.from('\x89PNG another chart');
    const row = (id: string, blobId: string, sentDaysAgo: number) => ({
      ...pendingOutboxRow({ id, idempotency_key: id, platform: id.startsWith('s') ? 'slack' : 'feishu', target_kind: 'channel', target_id: 'C1', event: 'report.weekly_digest', locale: 'en', order_key: id, payload: JSON.stringify({ messageKey: 'notice.text', params: { text: 'digest' }, image: { fileName: 'c.png', blobId } }) }, ago(60)),
      status: 'sent',
      sent_at: ago(sentDaysAgo),
    });
    await storage.db.transaction().execute(async (tx) => {
      const a = await putBlob(tx, png, ago(40));
      expect(await putBlob(tx, Buffer.from(png), ago(40))).toBe(a); // the same bytes: the same blob
      const b = await putBlob(tx, other, ago(5));
      await tx.insertInto('outbox').values([row('s-old', a, 40), row('f-old', a, 40), row('s-new', b, 5), row('f-new', b, 5)]).execute();
      await linkBlob(tx, a, ['s-old', 'f-old']);
      await linkBlob(tx, b, ['s-new', 'f-new']);
    });
    expect(await storage.db.selectFrom('blobs').select('id').execute()).toHaveLength(2);
    const rows = await storage.db.selectFrom('outbox').select(['id', 'payload']).orderBy('id').execute();
    const hydrated = await withBlobs(storage.db, rows);
    expect(hydrated.map((r) => (JSON.parse(r.payload) as { image: { pngBase64: string } }).image.pngBase64)).toEqual([other, png, other, png].map((x) => x.toString('base64')));

    const result = await applyRetention(storage.db, config, NOW);
    expect(result).toMatchObject({ outboxTrimmed: 2, blobsDeleted: 1 });
    expect(await storage.db.selectFrom('blobs').select('data').execute()).toEqual([{ data: expect.anything() }]);
    expect(Buffer.from((await storage.db.selectFrom('blobs').select('data').executeTakeFirstOrThrow()).data)).toEqual(other);
    expect((await storage.db.selectFrom('outbox_blobs').select('outbox_id').orderBy('outbox_id').execute()).map((r) => r.outbox_id)).toEqual(['f-new', 's-new']);
    const text = renderPrometheus(await collectMetrics(storage.db, new Date(NOW).toISOString()));
    expect(text).toContain('ticketbot_table_rows{table="blobs"} 1\n');
  });

  it('deletes knowledge-base offers nobody answered and web-form uploads of long-closed tickets, keeping the rest', async () => {
    const config = parsedConfig(`${REPORT_CONFIG_YAML}\nretention: { deflection_days: 60, intake_file_days: 30, batch: 2 }\n`);
    const offer = (id: string, daysAgo: number, outcome: string) => ({
      id, created_at: ago(daysAgo), source: 'web', integration_id: 'form', requester_id: null, category_id: 'wrong-password', department_id: 'it', lang: 'en',
      outcome, outcome_at: outcome === 'shown' ? null : ago(daysAgo), article_id: null, ticket_id: null,
    });
    await storage.db.insertInto('kb_deflections').values([offer('d1', 90, 'shown'), offer('d2', 61, 'shown'), offer('d3', 70, 'solved'), offer('d4', 80, 'escalated'), offer('d5', 59, 'shown'), offer('d6', 65, 'shown')]).execute();
    await storage.db.insertInto('kb_deflection_articles').values(['d1', 'd2', 'd3', 'd4', 'd5', 'd6'].flatMap((id) => [{ deflection_id: id, article_id: 'a1', position: 1 }, { deflection_id: id, article_id: 'a2', position: 2 }])).execute();

    const ticket = (id: string, state: string, closedDaysAgo: number | null) => ({
      id, key: `K-${id}`, department_id: 'it', home_department_id: 'it', category_id: 'wrong-password', priority: 'normal', title: 't', description: 'd', state,
      requester_id: 'u', assignee_id: null, sensitive: 0, locale: 'en', source_platform: 'api', source_ref: null, current_leg_id: null,
      public_reply_count: 0, reopen_count: 0, version: 1, created_at: ago(100), updated_at: ago(100),
      first_response_at: null, resolved_at: closedDaysAgo === null ? null : ago(closedDaysAgo), closed_at: closedDaysAgo === null ? null : ago(closedDaysAgo),
    });
    await storage.db.insertInto('tickets').values([ticket('t-long-closed', 'closed', 45), ticket('t-recently-closed', 'closed', 10), ticket('t-open', 'in_progress', null)]).execute();
    // Each file is uploaded, then the ticket's first message names it a moment later.
    const file = (id: string, daysAgo: number) => ({ id, integration_id: 'form', name: `${id}.png`, content_type: 'image/png', size: 3, data: 'AAAA', created_at: ago(daysAgo) });
    const files = [file('f000000000000000000000001', 100), file('f000000000000000000000002', 100), file('f000000000000000000000003', 99), file('f000000000000000000000004', 98), file('f000000000000000000000005', 20)];
    await storage.db.insertInto('intake_files').values(files).execute();
    const message = (id: string, ticketId: string, fileIds: string[], daysAgo: number) => ({
      id, ticket_id: ticketId, visibility: 'public', author_role: 'requester', author_id: 'u', body: '', origin_platform: 'api', origin_ref: null,
      created_at: new Date(Date.parse(ago(daysAgo)) + 2_000).toISOString(),
      attachments: JSON.stringify(fileIds.map((f) => ({ name: `${f}.png`, url: `https://desk.example/web/form/files/${f}?exp=1&sig=x` }))),
    });
    await storage.db
      .insertInto('messages')
      .values([
        message('m1', 't-long-closed', ['f000000000000000000000001'], 100), // closed 45 days ago: its file goes
        message('m2', 't-recently-closed', ['f000000000000000000000002'], 100), // closed 10 days ago: stays
        message('m3', 't-open', ['f000000000000000000000003'], 99), // still open: stays
        // f…4: no ticket shows it (the form failed after the upload): goes; f…5: uploaded 20 days ago: stays
        { ...message('m4', 't-open', [], 1), body: 'a reply without files' },
      ])
      .execute();

    const result = await applyRetention(storage.db, config, NOW);
    expect(result).toMatchObject({ deflectionsDeleted: 3, intakeFilesDeleted: 2 });
    expect((await storage.db.selectFrom('kb_deflections').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual(['d3', 'd4', 'd5']);
    expect((await storage.db.selectFrom('kb_deflection_articles').select('deflection_id').distinct().orderBy('deflection_id').execute()).map((r) => r.deflection_id)).toEqual(['d3', 'd4', 'd5']);
    expect((await storage.db.selectFrom('intake_files').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual(['f000000000000000000000002', 'f000000000000000000000003', 'f000000000000000000000005']);

    // A day later nothing else is due; 21 days later the recently closed ticket's file goes too,
    // and so does f…5 (41 days old, no ticket shows it); the open ticket's file stays.
    expect(await applyRetention(storage.db, config, NOW + DAY)).toMatchObject({ deflectionsDeleted: 0, intakeFilesDeleted: 0 });
    expect(await applyRetention(storage.db, config, NOW + 21 * DAY)).toMatchObject({ intakeFilesDeleted: 2 });
    expect((await storage.db.selectFrom('intake_files').select('id').execute()).map((r) => r.id)).toEqual(['f000000000000000000000003']);
    const text = renderPrometheus(await collectMetrics(storage.db, new Date(NOW).toISOString()));
    expect(text).toContain('ticketbot_table_rows{table="kb_deflections"} 2\n'); // d5 (80 days old by then) went too
    expect(text).toContain('ticketbot_table_rows{table="kb_deflection_articles"} 4\n');
    expect(text).toContain('ticketbot_table_rows{table="intake_files"} 1\n');
  });
});

function parsedConfig(text: string) {
  const parsed = parseConfigText(text);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  return parsed.config;
}
