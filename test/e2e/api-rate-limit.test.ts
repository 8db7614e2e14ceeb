import { randomBytes } from 'node:crypto';
import { readFileSync, mkdtempSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { readIntegrationKeys } from '../../src/config/integrations';
import { parseConfigText } from '../../src/config/load';
import { openStorage, type Storage } from '../../src/storage/database';
import { takeRateLimit } from '../../src/storage/repos/rate-limits';
import { createApiRouter } from '../../src/web/api/router';
import { FIXTURE_CONFIG, ManualTime, testContext } from '../support/app';
import { openMigratedPostgres, openMigratedSqlite } from '../support/storage';

/**
 * The intake API's rate limit is kept in the database (issue 18): two app instances, each with its
 * own connection to one database, share one limit per key; the 429 says when to come back.
 */
const parsed = parseConfigText(`${readFileSync(FIXTURE_CONFIG, 'utf8')}
integrations:
  - { id: portal, key_env: PORTAL_KEY, rate_limit: 3 }
  - { id: other, key_env: OTHER_KEY, rate_limit: 3 }
`);
if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
const config = parsed.config;

type Pair = { name: string; open(): Promise<[Storage, Storage]> };
const pairs: Pair[] = [
  {
    name: 'sqlite',
    open: async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'rate-')), 'db.sqlite');
      const a = await openMigratedSqlite(file);
      return [a, await openStorage({ sqliteFile: file })];
    },
  },
];
if (process.env.TEST_DATABASE_URL) {
  const url = process.env.TEST_DATABASE_URL;
  pairs.push({
    name: 'postgres',
    open: async () => {
      const schema = `t_${randomBytes(6).toString('hex')}`;
      const a = await openMigratedPostgres(url, schema);
      return [a, await openStorage({ databaseUrl: url, pgSchema: schema, poolSize: 2 })];
    },
  });
}

describe.each(pairs)('rate limit shared by two app instances on $name', (pair) => {
  let stores: [Storage, Storage];
  const servers: Server[] = [];
  const bases: string[] = [];
  // 20 s into a minute: the window ends in 40 s.
  const time = new ManualTime(new Date('2026-03-02T02:00:20Z'));

  beforeAll(async () => {
    stores = await pair.open();
    const { keys } = readIntegrationKeys(config.raw, { PORTAL_KEY: 'portal-key-0123456789', OTHER_KEY: 'other-key-0123456789' });
    for (const storage of stores) {
      const app = express();
      app.use(createApiRouter({ ctx: testContext(storage, time, config), keys, publicUrl: 'https://desk.example.com' }));
      const server = await new Promise<Server>((resolve) => {
        const s = app.listen(0, '127.0.0.1', () => resolve(s));
      });
      servers.push(server);
      bases.push(`http://127.0.0.1:${(server.address() as { port: number }).port}`);
    }
  });
  afterAll(async () => {
    for (const s of servers) await new Promise((r) => s.close(r));
    await stores[1].close();
    await stores[0].close();
  });

  const get = (i: number, key = 'portal-key-0123456789') => fetch(`${bases[i]}/api/v1/tickets/IT-999`, { headers: { authorization: `Bearer ${key}` } });

  it('counts requests to either instance against one limit, answers 429 with Retry-After, and opens again in the next window', async () => {
    const statuses = [];
    for (const i of [0, 1, 0]) statuses.push((await get(i)).status);
    expect(statuses).toEqual([404, 404, 404]);
    const limited = await get(1);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('40');
    expect((await get(0)).status).toBe(429);
    expect((await get(1, 'other-key-0123456789')).status).toBe(404); // another key has its own limit
    time.advance(40_000);
    expect((await get(1)).status).toBe(404);
  });

  it('never lets more than the limit through when both instances count at once', async () => {
    time.set('2026-03-02T03:00:00Z');
    const now = time.now().getTime();
    const decisions = await Promise.all(Array.from({ length: 20 }, (_, i) => takeRateLimit(stores[i % 2]!.db, 'burst', 5, 60_000, now)));
    expect(decisions.filter((d) => d.allowed)).toHaveLength(5);
    expect(decisions.map((d) => d.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  });
});
