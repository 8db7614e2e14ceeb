import { durationText } from '../../src/chat/durations';
import { localizeParams } from '../../src/chat/views';
import { formatDurationText } from '../../src/reports/format';

describe('durationText: durations shown to people say what they mean', () => {
  it('business time reads in working hours, never days', () => {
    expect(durationText('3d', 'en')).toBe('72 working hours');
    expect(durationText('3d', 'zh-CN')).toBe('72 工作小时');
    expect(durationText('1h', 'en')).toBe('1 working hour');
    expect(durationText('1h30m', 'en')).toBe('1 working hour 30 minutes');
    expect(durationText('1h30m', 'zh-CN')).toBe('1 工作小时 30 分钟');
    expect(durationText('15m', 'en')).toBe('15 working minutes');
    expect(durationText('15m', 'zh-CN')).toBe('15 工作分钟');
  });

  it('working days read as working days', () => {
    expect(durationText('3wd', 'en')).toBe('3 working days');
    expect(durationText('3wd', 'zh-CN')).toBe('3 个工作日');
    expect(durationText('1wd', 'en')).toBe('1 working day');
  });

  it('wall-clock time (calendar always) reads in plain hours', () => {
    expect(durationText('4h', 'en', 'wall')).toBe('4 hours');
    expect(durationText('1d', 'zh-CN', 'wall')).toBe('24 小时');
    expect(durationText('30m', 'en', 'wall')).toBe('30 minutes');
  });

  it('measured metrics use the same words', () => {
    expect(formatDurationText(28 * 3_600_000, 'zh-CN')).toBe('28 工作小时');
    expect(formatDurationText(12 * 60_000, 'en')).toBe('12 working minutes');
    expect(formatDurationText(50 * 3_600_000, 'en', 'wall')).toBe('50 hours');
  });

  it('a clock extension in a card or message reads in working hours', () => {
    expect(localizeParams({ key: 'IT-1', by: '1d' }, 'zh-CN', 'Asia/Shanghai').by).toBe('24 工作小时');
    expect(localizeParams({ key: 'IT-1', by: '1h30m' }, 'en', 'UTC').by).toBe('1 working hour 30 minutes');
  });
});
