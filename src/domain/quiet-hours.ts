/**
 * Quiet hours [issue 17 item 6]: a daily window (HH:MM–HH:MM in a zone, may wrap midnight) in
 * which non-urgent direct messages to a person wait. Pure functions over instants.
 */
export interface QuietWindow {
  start: string;
  end: string;
  zone: string;
}

const HHMM = /^([01]?\d|2[0-3]):([0-5]\d)$/;

/** `22:00-08:00` (also `22:00–08:00`, `22-8`) → start/end HH:MM; undefined when unreadable or empty. */
export function parseQuietRange(text: string): { start: string; end: string } | undefined {
  const m = /^\s*(\d{1,2}(?::\d{2})?)\s*[-–~到至]\s*(\d{1,2}(?::\d{2})?)\s*$/.exec(text);
  if (!m) return undefined;
  const norm = (v: string) => {
    const withMinutes = v.includes(':') ? v : `${v}:00`;
    const hm = HHMM.exec(withMinutes);
    return hm ? `${hm[1]!.padStart(2, '0')}:${hm[2]}` : undefined;
  };
  const start = norm(m[1]!);
  const end = norm(m[2]!);
  if (!start || !end || start === end) return undefined;
  return { start, end };
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/** Minutes since local midnight of an instant in a zone. */
function localMinutes(ms: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

/**
 * When the quiet window holding `nowMs` ends (ISO instant), or undefined when `nowMs` is outside
 * it. Counted in local minutes from now, so a DST change inside the window shifts the end by its hour.
 */
export function quietUntil(w: QuietWindow, nowMs: number): string | undefined {
  const start = minutesOf(w.start);
  const end = minutesOf(w.end);
  const now = localMinutes(nowMs, w.zone);
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return undefined;
  const minutesLeft = (end - now + 1440) % 1440;
  const minuteStart = nowMs - (nowMs % 60_000);
  return new Date(minuteStart + minutesLeft * 60_000).toISOString();
}
