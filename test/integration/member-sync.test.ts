import { listDepartmentMembers, replaceDepartmentMembers } from '../../src/storage/repos/users';
import type { Storage } from '../../src/storage/database';
import { storageVariants } from '../support/storage';

describe.each(storageVariants())('department member sync on $name', (variant) => {
  let storage: Storage;
  beforeEach(async () => {
    storage = await variant.open();
    for (const id of ['u1', 'u2', 'u3', 'u4']) {
      await storage.db.insertInto('users').values({ id, platform: 'slack', workspace: 'T', platform_user_id: id, name: id, email: null, locale: null, timezone: null, away_until: null, is_bot: 0, created_at: 'x', updated_at: 'x' }).execute();
    }
  });
  afterEach(async () => {
    await storage.close();
  });

  it('a reader never sees the team empty while it is re-synced, and the result is the new team', async () => {
    await replaceDepartmentMembers(storage.db, 'it', ['u1', 'u2', 'u3'], 'slack', 't0');
    const seen: number[] = [];
    let syncing = true;
    const reader = (async () => {
      while (syncing) seen.push((await listDepartmentMembers(storage.db, 'it')).length);
    })();
    for (let i = 0; i < 20; i++) await replaceDepartmentMembers(storage.db, 'it', i % 2 ? ['u1', 'u2', 'u3'] : ['u2', 'u3', 'u4'], 'slack', `t${i}`);
    syncing = false;
    await reader;
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((n) => n === 0)).toEqual([]);
    expect((await listDepartmentMembers(storage.db, 'it')).sort()).toEqual(['u1', 'u2', 'u3']);
  });

  it('members from another source are left alone; an empty list empties only this source', async () => {
    await replaceDepartmentMembers(storage.db, 'it', ['u1'], 'feishu', 't0');
    await replaceDepartmentMembers(storage.db, 'it', ['u2', 'u3'], 'slack', 't0');
    await replaceDepartmentMembers(storage.db, 'it', [], 'slack', 't1');
    expect(await listDepartmentMembers(storage.db, 'it')).toEqual(['u1']);
  });
});
