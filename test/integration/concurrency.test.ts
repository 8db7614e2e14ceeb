import { storageVariants } from '../support/storage';
import { ManualTime, as, seedUsers, testContext } from '../support/app';
import { claimTicket, createTicket, getAuditTrail } from '../../src/app';

/**
 * Two replicas acting at once: on PostgreSQL these run on separate pooled connections, so the
 * conditional updates and the inbox key really race.
 */
describe.each(storageVariants())('concurrent commands on $name', (variant) => {
  it('lets exactly one of two concurrent claims win; the other hears who has it', async () => {
    const storage = await variant.open();
    try {
      const ctx = testContext(storage, new ManualTime(new Date('2026-11-23T01:00:00Z')));
      const u = await seedUsers(ctx, [
        { platform: 'slack', id: 'UREQ', name: 'Rita' },
        { platform: 'slack', id: 'UIT1', name: 'Alan' },
        { platform: 'slack', id: 'UIT2', name: 'Bea' },
      ]);
      for (let round = 0; round < 10; round++) {
        const created = await createTicket(ctx, { meta: as(u.UREQ!), categoryId: 'no-code', title: 't', description: '', fields: { account: 'a', device: 'd' } });
        if (!created.ok) throw new Error(created.error.code);
        const key = created.value.ticket.key;
        const results = await Promise.all([
          claimTicket(ctx, { meta: as(u.UIT1!, `a:${round}`), ticket: key }),
          claimTicket(ctx, { meta: as(u.UIT2!, `b:${round}`), ticket: key }),
        ]);
        const winners = results.filter((r) => r.ok);
        const losers = results.filter((r) => !r.ok);
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(1);
        expect(losers[0]).toMatchObject({ ok: false, error: { code: 'ticket.already_assigned' } });
        expect((await getAuditTrail(ctx, key)).filter((e) => e.action === 'claimed')).toHaveLength(1);
      }
    } finally {
      await storage.close();
    }
  });

  it('makes one ticket from the same create request sent twice at once', async () => {
    const storage = await variant.open();
    try {
      const ctx = testContext(storage, new ManualTime(new Date('2026-11-23T01:00:00Z')));
      const u = await seedUsers(ctx, [{ platform: 'slack', id: 'UREQ', name: 'Rita' }]);
      const send = () => createTicket(ctx, { meta: as(u.UREQ!, 'slack:event:EvSame'), categoryId: 'how-to', title: 'Q', description: '' });
      const [a, b] = await Promise.all([send(), send()]);
      expect(a.ok && b.ok).toBe(true);
      expect([a.duplicate ?? false, b.duplicate ?? false].filter(Boolean)).toHaveLength(1);
      const n = await ctx.db.selectFrom('tickets').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      expect(Number(n.n)).toBe(1);
    } finally {
      await storage.close();
    }
  });
});
