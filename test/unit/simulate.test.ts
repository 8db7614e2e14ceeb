import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load';
import { formatSimulation, parseTicketsCsv, simulateTickets } from '../../src/cli/simulate';
import { UsageError } from '../../src/cli/common';

const config = loadConfigFile(join(__dirname, '../../config/example.yaml'));
const fixture = join(__dirname, '../fixtures/simulate-tickets.csv');
const rows = parseTicketsCsv(readFileSync(fixture, 'utf8'), config, 'tickets.csv');
const result = simulateTickets(config, rows);
const ticket = (label: string) => result.tickets.find((t) => t.label === label)!;

describe('simulate', () => {
  it('routes each ticket to its department and agent', () => {
    expect(result.tickets.map((t) => [t.label, t.departmentId, t.assignee])).toEqual([
      ['T1', 'cs', 'cs-agent-1'],
      ['T2', 'cs', 'cs-agent-2'],
      ['T3', 'eng', null], // claim
      ['T4', 'finance', 'finance-agent-1'],
      ['T5', 'cs', 'cs-agent-3'],
      ['T6', 'ops', 'slack:U0OPS1'],
      ['T7', 'cs', 'cs-agent-1'], // T1 was resolved an hour before: 0 open
      ['T8', 'warehouse', 'warehouse-agent-1'],
      ['T9', 'cs', 'cs-agent-2'], // everyone has 1 open; agent 2 has waited longest since an assignment
      ['T10', 'finance', 'finance-agent-2'],
    ]);
  });

  it('computes due times over the National Day holiday and reports outcomes', () => {
    expect(ticket('T1').clocks.map((c) => [c.kind, c.dueAt, c.outcome])).toEqual([
      ['first_response', '2026-10-08T03:00:00.000Z', 'met_on_time'],
      ['resolution', '2026-10-20T03:30:00.000Z', 'met_on_time'],
    ]);
    expect(ticket('T3').clocks[0]).toMatchObject({ calendarId: 'always', dueAt: '2026-10-08T01:20:00.000Z', outcome: 'met_on_time' });
    expect(ticket('T7').clocks[0]).toMatchObject({ dueAt: '2026-10-09T08:30:00.000Z', outcome: 'met_late' });
  });

  it('lists each escalation that would fire, stopping when the clock is met', () => {
    expect(ticket('T2').clocks[0]!.escalations).toEqual([{ level: 0, at: '2026-10-08T01:15:00.000Z', repeat: 0, notify: ['assignee'], urgent: false }]);
    expect(ticket('T4').clocks[0]!.escalations.map((e) => `L${e.level + 1}.${e.repeat} ${e.at}`)).toEqual([
      'L1.0 2026-10-08T06:30:00.000Z',
      'L2.0 2026-10-08T07:30:00.000Z',
      'L3.0 2026-10-08T09:30:00.000Z',
      'L3.1 2026-10-09T02:30:00.000Z',
      'L3.2 2026-10-09T06:00:00.000Z',
      'L3.3 2026-10-09T08:00:00.000Z',
    ]);
  });

  it('summarises the on-time rate and the load per agent', () => {
    expect(result.until).toBe('2026-10-13T01:00:00.000Z');
    expect(result.summary).toMatchObject({ tickets: 10, unassigned: 1, openClocks: 3, onTime: { met: 13, breached: 4 } });
    expect(result.summary.loadPerAgent.filter((a) => a.departmentId === 'cs')).toEqual([
      { departmentId: 'cs', userId: 'cs-agent-1', tickets: 2 },
      { departmentId: 'cs', userId: 'cs-agent-2', tickets: 2 },
      { departmentId: 'cs', userId: 'cs-agent-3', tickets: 1 },
    ]);
    const text = formatSimulation(result).join('\n');
    expect(text).toContain('on-time rate: 76.5% (13 of 17)');
    expect(text).toContain('escalation L3 repeat 3 at 2026-10-09T08:00:00.000Z → supervisors (urgent)');
  });

  it('rejects bad rows with their line number', () => {
    const header = 'created_at,category,priority,requester\n';
    const bad = (csv: string) => () => parseTicketsCsv(csv, config, 't.csv');
    expect(bad(header + '2026-10-08T09:00:00Z,how-to,normal,U1\n2026-13-01T09:00,how-to,normal,U1\n')).toThrow('t.csv line 3: created_at: not an ISO-8601 date-time: "2026-13-01T09:00"');
    expect(bad(header + '2026-10-08T09:00:00Z,nope,normal,U1\n')).toThrow('t.csv line 2: unknown leaf category "nope"');
    expect(bad(header + '2026-10-08T09:00:00Z,how-to,asap,U1\n')).toThrow(/line 2: unknown priority "asap"/);
    expect(bad('created_at,category\n2026-10-08T09:00:00Z,how-to\n')).toThrow('t.csv: missing column "priority"');
    expect(bad(header + '2026-10-08T09:00:00Z,how-to,normal\n')).toThrow(UsageError);
    expect(bad('created_at,category,priority,requester,resolved_at\n2026-10-08T09:00:00Z,how-to,normal,U1,2026-10-08T08:00:00Z\n')).toThrow(/resolved_at is before created_at/);
  });

  it('reads zone-less times in the department calendar and requester attributes', () => {
    const [row] = parseTicketsCsv('created_at,category,priority,requester\n2026-10-08T09:00,how-to,,id=U1;tier=vip\n', config, 't.csv');
    expect(row).toMatchObject({ createdAt: Date.parse('2026-10-08T01:00:00Z'), priority: 'normal', requester: { id: 'U1', tier: 'vip' } });
  });
});
