import { join } from 'node:path';
import { clockWhyText } from '../../src/chat/clock-why';
import { formatTime } from '../../src/chat/views';
import { loadConfigFile } from '../../src/config/load';
import { calendarsFromConfig } from '../../src/domain/calendar';
import { meetClock, pauseClock, resumeClock, retargetClock, startClock, stopClock } from '../../src/domain/clock';

const H = 3_600_000;
const cnOffice = calendarsFromConfig(loadConfigFile(join(__dirname, '../../config/example.yaml')).raw).get('cn-office')!;
const local = (text: string) => new Date(Date.parse(`${text}+08:00`)).toISOString();
const at = (iso: string) => formatTime(iso, 'Asia/Shanghai').text;
const ENGLISH_WORDS = /\b(due|business|excluded|skipped|make-up|started|paused|resumed|used|met|stopped|breached|target)\b/;

describe('a clock explanation in the reader’s language (history view)', () => {
  // Friday before the 2026 Spring Festival: the make-up Saturday, then the holiday week.
  const started = startClock({ kind: 'resolution', targetMs: 16 * H, calendar: cnOffice, policyId: 'normal', now: local('2026-02-13T17:00:00'), reason: 'ticket created' });
  const dueLine = started.log.at(-1)!;

  it('reads the stored English line and says it in zh-CN and en, instants in the reader’s zone', () => {
    expect(dueLine).toMatch(/^due \S+: 16h business in cn-office; .*make-up workday.*holiday skipped/);
    const zh = clockWhyText(dueLine, 'zh-CN', at);
    expect(zh).toContain(`${at(started.dueAt!)} 到期:按日历 cn-office 还剩 16 小时 工作时间`);
    expect(zh).toContain('2026-02-14 为调休上班日');
    expect(zh).toMatch(/2026-02-15\.\.\S+ 节假日不计/);
    expect(zh).toContain('休息时间不计');
    expect(zh).not.toMatch(ENGLISH_WORDS);
    const en = clockWhyText(dueLine, 'en', at);
    expect(en).toContain(`due ${at(started.dueAt!)}: 16 h of business time left on calendar cn-office`);
    expect(en).toContain('2026-02-14 is a make-up workday');
  });

  it('says every kind of line the clock writes, in both languages', () => {
    const paused = pauseClock(started, cnOffice, local('2026-02-14T10:30:00'));
    const resumed = resumeClock(paused, cnOffice, local('2026-02-14T11:00:00'));
    const retargeted = retargetClock(resumed, { targetMs: 8 * H, calendar: cnOffice, policyId: 'urgent', now: local('2026-02-14T11:00:00'), reason: 'priority urgent' });
    const met = meetClock(retargeted, cnOffice, local('2026-02-14T14:00:00'));
    const stopped = stopClock(started, cnOffice, local('2026-02-13T17:30:00'), 'closed');
    const lines = [...new Set([...started.log, ...paused.log, ...resumed.log, ...retargeted.log, ...met.log, ...stopped.log])];
    expect(lines.length).toBeGreaterThanOrEqual(7);
    for (const line of lines) {
      const zh = clockWhyText(line, 'zh-CN', at);
      // Free-text reasons stay as written (they come from the use cases, e.g. "ticket created").
      expect(zh.replace(/\((ticket created|closed|priority urgent)\)|(priority urgent)/g, '')).not.toMatch(ENGLISH_WORDS);
      expect(clockWhyText(line, 'en', at)).not.toBe(line); // instants are local, words are the catalogue's
    }
    expect(clockWhyText(paused.log.find((l) => l.startsWith('paused'))!, 'zh-CN', at)).toBe('2026-02-14 10:30 GMT+8 暂停,已用 2 小时 30 分钟(目标 16 小时)');
  });

  it('shows a line it does not know as stored', () => {
    expect(clockWhyText('something new happened', 'zh-CN', at)).toBe('something new happened');
  });
});
