import { claimTicket } from '../../src/app';
import { mayReadDepartment, mayReadTicket, type DepartmentRole } from '../../src/domain/access';
import type { Role } from '../../src/domain/ticket';
import { FeishuParity, SlackParity, type ParityDriver, type Person } from '../fakes/parity-drivers';

/**
 * The permission matrix (src/domain/access.ts, with the write rule of src/domain/ticket.ts),
 * enforced in the core, checked here through each platform's own requests: every role × every read
 * and every button that opens a view. A refusal never shows the ticket and reads the same as a
 * missing key.
 */

type Ask = 'show' | 'queue' | 'stats' | 'open reply form' | 'open hand-off form' | 'open resolve form' | 'claim';
const ROLES = ['requester', 'assignee', 'member', 'supervisor', 'otherSupervisor', 'admin', 'outsider'] as const;
type MatrixRole = (typeof ROLES)[number];

/** The specification: ✓ allowed, ✗ refused. */
const MATRIX: Record<Ask, Record<MatrixRole, boolean>> = {
  show: { requester: true, assignee: true, member: true, supervisor: true, otherSupervisor: false, admin: true, outsider: false },
  queue: { requester: false, assignee: true, member: true, supervisor: true, otherSupervisor: false, admin: true, outsider: false },
  stats: { requester: false, assignee: true, member: true, supervisor: true, otherSupervisor: false, admin: true, outsider: false },
  'open reply form': { requester: false, assignee: true, member: true, supervisor: true, otherSupervisor: false, admin: true, outsider: false },
  'open hand-off form': { requester: false, assignee: true, member: true, supervisor: true, otherSupervisor: false, admin: true, outsider: false },
  'open resolve form': { requester: false, assignee: true, member: true, supervisor: true, otherSupervisor: false, admin: true, outsider: false },
  claim: { requester: false, assignee: true, member: true, supervisor: true, otherSupervisor: false, admin: true, outsider: false },
};

/** Who plays each role (the assignee is a member of IT who claimed the ticket). */
const PLAYER: Record<MatrixRole, Person> = {
  requester: 'requester',
  assignee: 'member2',
  member: 'member',
  supervisor: 'supervisor',
  otherSupervisor: 'otherSupervisor',
  admin: 'admin',
  outsider: 'outsider',
};

const TICKET_ROLES: Record<MatrixRole, Role[]> = {
  requester: ['requester'],
  assignee: ['assignee', 'member'],
  member: ['member'],
  supervisor: ['supervisor'],
  otherSupervisor: [],
  admin: ['admin'],
  outsider: [],
};
const DEPARTMENT_ROLES: Record<MatrixRole, DepartmentRole[]> = {
  requester: [],
  assignee: ['member'],
  member: ['member'],
  supervisor: ['supervisor'],
  otherSupervisor: [],
  admin: ['admin'],
  outsider: [],
};

describe('the core matrix is the specification', () => {
  it.each(ROLES)('%s', (role) => {
    const t = new Set(TICKET_ROLES[role]);
    const d = new Set(DEPARTMENT_ROLES[role]);
    expect({
      show: mayReadTicket('view', t),
      queue: mayReadDepartment('queue', d),
      stats: mayReadDepartment('stats', d),
      'open reply form': mayReadTicket({ opens: 'reply' }, t),
      'open hand-off form': mayReadTicket({ opens: 'hand_off' }, t),
      'open resolve form': mayReadTicket({ opens: 'resolve' }, t),
      claim: mayReadTicket({ opens: 'claim' }, t),
    }).toEqual(Object.fromEntries(Object.entries(MATRIX).map(([ask, row]) => [ask, row[role]])));
  });
});

const CASES = (Object.keys(MATRIX) as Ask[]).flatMap((ask) => ROLES.map((role): [Ask, MatrixRole, boolean] => [ask, role, MATRIX[ask][role]]));

describe.each([
  ['slack', () => SlackParity.start()],
  ['feishu', () => FeishuParity.start()],
] as const)('on %s', (_platform, start) => {
  let d: ParityDriver;
  let claims = 1;

  beforeAll(async () => {
    d = await start();
    await d.command('requester', 'Printer on floor 3 jams');
    await claimTicket(d.ctx, { meta: { actorId: d.userId('member2'), platform: d.platform, eventKey: 'matrix:claim' }, ticket: 'IT-1001' });
    await d.deliver();
  });
  afterAll(async () => {
    await d.stop();
  });

  it.each(CASES)('%s by the %s: %s', async (ask, role, allowed) => {
    const who = PLAYER[role];
    switch (ask) {
      case 'show': {
        const seen = await d.command(who, 'show IT-1001');
        expect([seen.private.includes('Printer on floor 3 jams'), seen.private.includes('There is no ticket IT-1001 that you can see')]).toEqual([allowed, !allowed]);
        return;
      }
      case 'queue':
      case 'stats': {
        const seen = await d.command(who, `${ask} it`);
        const refused = /own departments only|you are in none/.test(seen.private);
        expect(refused).toBe(!allowed);
        if (ask === 'queue') expect(seen.private.includes('Printer on floor 3 jams')).toBe(allowed);
        return;
      }
      case 'open reply form':
      case 'open hand-off form':
      case 'open resolve form': {
        const form = ask === 'open reply form' ? 'reply' : ask === 'open hand-off form' ? 'hand_off' : 'resolve';
        const { opened, seen } = await d.openForm(who, 'IT-1001', form);
        expect(opened).toBe(allowed);
        if (!allowed) expect(seen.private).toContain('There is no ticket');
        return;
      }
      case 'claim': {
        // Each claim on a fresh ticket of IT, raised by the requester.
        claims += 1;
        const key = `IT-${1000 + claims}`;
        await d.command('requester', `Claim test ${claims}`);
        await d.deliver();
        await d.claim(who, key);
        const row = await d.storage.db.selectFrom('tickets').select('assignee_id').where('key', '=', key).executeTakeFirstOrThrow();
        expect(row.assignee_id === d.userId(who)).toBe(allowed);
        return;
      }
    }
  });
});
