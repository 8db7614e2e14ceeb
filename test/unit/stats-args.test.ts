import { findDepartment, parseStatsArgs } from '../../src/chat/stats-args';
import { feishuTestConfig } from '../fakes/feishu-harness';

const config = feishuTestConfig();

describe('/ticket stats arguments', () => {
  it('defaults to 7 days and all departments', () => {
    expect(parseStatsArgs(config, [])).toEqual({ days: 7, departmentText: '', departmentId: undefined });
  });

  it('reads 7d / 30d (and 30天) in any order with a department', () => {
    expect(parseStatsArgs(config, ['30d'])).toMatchObject({ days: 30, departmentId: undefined });
    expect(parseStatsArgs(config, ['finance', '30D'])).toMatchObject({ days: 30, departmentId: 'finance' });
    expect(parseStatsArgs(config, ['7d', '财务部'])).toMatchObject({ days: 7, departmentId: 'finance' });
    expect(parseStatsArgs(config, ['30天', '服务台'])).toMatchObject({ days: 30, departmentId: 'helpdesk' });
    expect(parseStatsArgs(config, ['9999d'])).toMatchObject({ days: 365 });
    expect(parseStatsArgs(config, ['0d'])).toMatchObject({ days: 1 });
  });

  it('finds a department by id, key prefix or either name; unknown words are kept for the error', () => {
    expect(findDepartment(config, 'HelpDesk')).toBe('helpdesk');
    expect(findDepartment(config, 'fin')).toBe('finance');
    expect(findDepartment(config, 'Finance')).toBe('finance');
    expect(findDepartment(config, '信息技术部')).toBe('it');
    expect(parseStatsArgs(config, ['legal', 'team', '30d'])).toEqual({ days: 30, departmentText: 'legal team', departmentId: undefined });
  });
});
