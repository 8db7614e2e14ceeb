import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { draftFromText, encodeDraft, type DraftValue } from '../../src/slack/intake';

const ROOT = join(__dirname, '..', '..');

/**
 * Runs encodeDraft in a child process with a time limit: an endless loop there would freeze the
 * whole bot (Slack, Feishu, the scheduler and /healthz), so here it must fail the test, not hang it.
 */
function encodeInChild(drafts: DraftValue[]): { status: number | null; out: string[] } {
  const script = `const { encodeDraft } = require('./src/slack/intake'); process.stdout.write(JSON.stringify(JSON.parse(process.argv[1]).map(encodeDraft)));`;
  const run = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['-e', script, JSON.stringify(drafts)], { cwd: ROOT, timeout: 10_000, encoding: 'utf8' });
  return { status: run.status, out: run.status === 0 ? (JSON.parse(run.stdout) as string[]) : [] };
}

describe('encodeDraft (the "complete this ticket" button value)', () => {
  it('ends, and fits a button value, for a text of emoji (astral characters count twice in JSON length)', () => {
    const draft: DraftValue = { c: 'no-code', t: 'Help 😀', d: '😀'.repeat(1500) };
    const { status, out: [out = ''] } = encodeInChild([draft]);
    expect(status).toBe(0);
    expect(out.length).toBeLessThanOrEqual(2000);
    const back = JSON.parse(out) as DraftValue;
    expect(back.d.endsWith('…')).toBe(true);
    expect(back.d.startsWith('😀😀')).toBe(true);
  });

  it('fits with quotes, backslashes and newlines (each doubles in JSON)', () => {
    const texts = ['"'.repeat(3000), '\\'.repeat(2500) + '😀', '\n'.repeat(1999) + 'x', 'a'.repeat(1899) + '"'.repeat(40), '\u0001'.repeat(900)];
    const { status, out } = encodeInChild(texts.map((d) => ({ t: 'x', d })));
    expect(status).toBe(0);
    expect(out).toHaveLength(texts.length);
    for (const value of out) {
      expect(value.length).toBeLessThanOrEqual(2000);
      expect((JSON.parse(value) as DraftValue).t).toBe('x');
    }
  });

  it('keeps a short draft whole', () => {
    const draft = { t: 'Printer', d: 'It jams & smokes <a lot>' };
    expect(JSON.parse(encodeDraft(draft))).toEqual(draft);
  });
});

describe('draftFromText', () => {
  it('takes the first line as the title, cut to 100 characters', () => {
    const d = draftFromText(`${'x'.repeat(150)}\nmore`);
    expect([...d.title]).toHaveLength(100);
    expect(d.title.endsWith('…')).toBe(true);
  });
});
