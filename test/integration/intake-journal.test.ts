import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { newId } from '../../src/app/ids';
import { InboundQueue } from '../../src/jobs/inbound';
import type { Storage } from '../../src/storage/database';
import { journalFileBeside, openIntakeJournal, parseIntakeJournalSetting, type IntakeJournal } from '../../src/storage/intakeJournal';
import type { Insertable, Selectable } from 'kysely';
import type { InboundEventRow as Table } from '../../src/storage/tables';
import { openMigratedPostgres, openMigratedSqlite } from '../support/storage';

const row = (id: string, status: string, received: string): Insertable<Table> & Selectable<Table> => ({
  id, platform: 'slack', kind: 'command', dedup_key: `k-${id}`, payload: '{}', status, attempts: 1,
  lease_owner: status === 'pending' ? 'dead-process' : null, lease_until: status === 'pending' ? received : null, last_error: null, received_at: received, finished_at: null,
});

describe('intake journal settings', () => {
  it('reads TICKETBOT_INTAKE_JOURNAL and names the file beside the main one', () => {
    expect(parseIntakeJournalSetting(undefined)).toBe('beside');
    expect(parseIntakeJournalSetting(' beside ')).toBe('beside');
    expect(parseIntakeJournalSetting('main')).toBe('main');
    expect(parseIntakeJournalSetting('/var/lib/tb/in.db')).toEqual({ file: '/var/lib/tb/in.db' });
    expect(journalFileBeside('./data/ticketbot.db')).toBe('data/ticketbot.intake.db');
    expect(journalFileBeside('/x/desk')).toBe('/x/desk.intake.db');
    expect(journalFileBeside(':memory:')).toBe(':memory:');
  });
});

describe('intake journal on a SQLite file', () => {
  let dir: string;
  let main: Storage;
  let journal: IntakeJournal | undefined;
  const mainFile = () => join(dir, 'desk.db');

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tb-journal-'));
    main = await openMigratedSqlite(mainFile());
  });
  afterEach(async () => {
    await journal?.close();
    journal = undefined;
    await main.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores an admitted request at once while a transaction holds the main file\'s write lock', async () => {
    journal = await openIntakeJournal(main, mainFile(), 'beside');
    expect(journal.separate).toBe(true);
    expect(existsSync(join(dir, 'desk.intake.db'))).toBe(true);
    const q = new InboundQueue({ db: journal.store.db, dialect: journal.store.dialect, owner: 'a', time: { now: () => new Date() }, logger: pino({ level: 'silent' }), newId: () => newId(), runSoon: journal.store.runSoon });
    // A use case's transaction on the main file stays open (BEGIN IMMEDIATE: the write lock) until released.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let opened!: () => void;
    const isOpen = new Promise<void>((resolve) => (opened = resolve));
    const work = main.db.transaction().execute(async (trx) => {
      await trx.insertInto('inbox').values({ key: 'use-case', received_at: new Date().toISOString(), result: null }).execute();
      opened();
      await held;
    });
    await isOpen;
    // In the main file the insert would wait for that COMMIT; in the journal nothing is in its way.
    const admitted = await Promise.race([
      q.admit({ platform: 'slack', kind: 'command', dedupKey: 'slack:command:T1', payload: {} }).then((a) => a.fresh),
      new Promise<string>((resolve) => setTimeout(() => resolve('still waiting'), 1000)),
    ]);
    expect(admitted).toBe(true);
    release();
    await work;
    const stored = await journal.store.db.selectFrom('inbound_events').select(['dedup_key', 'status']).execute();
    expect(stored).toEqual([{ dedup_key: 'slack:command:T1', status: 'pending' }]);
    // The main file's table is not used.
    expect(await main.db.selectFrom('inbound_events').select('id').execute()).toEqual([]);
  });

  it('adopts the rows the main file held (pending work and dedup keys), once, and a restart finds them', async () => {
    await main.db.insertInto('inbound_events').values([row('p1', 'pending', '2026-03-02T01:00:00.000Z'), row('d1', 'done', '2026-03-01T01:00:00.000Z')]).execute();
    journal = await openIntakeJournal(main, mainFile(), 'beside');
    expect(journal.adopted).toBe(2);
    expect(await main.db.selectFrom('inbound_events').select('id').execute()).toEqual([]);
    await journal.close();
    journal = await openIntakeJournal(main, mainFile(), 'beside');
    expect(journal.adopted).toBe(0);
    const rows = await journal.store.db.selectFrom('inbound_events').select(['id', 'status']).orderBy('id').execute();
    expect(rows).toEqual([{ id: 'd1', status: 'done' }, { id: 'p1', status: 'pending' }]);
    // The adopted pending row is taken over and replayed like any abandoned one.
    const replayed: unknown[] = [];
    const q = new InboundQueue({ db: journal.store.db, dialect: journal.store.dialect, owner: 'b', time: { now: () => new Date('2026-03-02T02:00:00Z') }, logger: pino({ level: 'silent' }), newId: () => newId(), runSoon: journal.store.runSoon });
    q.register('slack', async (payload) => void replayed.push(payload));
    await q.round();
    expect(replayed).toEqual([{}]);
    // A retry of the done request is still recognised.
    expect((await q.admit({ platform: 'slack', kind: 'command', dedupKey: 'k-d1', payload: {} })).fresh).toBe(false);
  });

  it('keeps the intake in the main file when told to, and refuses the main file as the journal', async () => {
    journal = await openIntakeJournal(main, mainFile(), 'main');
    expect(journal.separate).toBe(false);
    expect(journal.store.db).toBe(main.db);
    await expect(openIntakeJournal(main, mainFile(), { file: mainFile() })).rejects.toThrow(/TICKETBOT_INTAKE_JOURNAL.*main database file/);
  });
});

const pgUrl = process.env.TEST_DATABASE_URL;
(pgUrl ? describe : describe.skip)('intake journal on PostgreSQL (skipped without TEST_DATABASE_URL)', () => {
  it('stays in the main database: PostgreSQL locks rows, not the database', async () => {
    const main = await openMigratedPostgres(pgUrl!);
    try {
      const journal = await openIntakeJournal(main, undefined, 'beside');
      expect(journal.separate).toBe(false);
      expect(journal.store.db).toBe(main.db);
    } finally {
      await main.close();
    }
  });
});
