import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';

/** Layout boundaries of docs/architecture: checked on every test run. */
const SRC = join(__dirname, '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : name.endsWith('.ts') ? [path] : [];
  });
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
  return specs.map((s) => relative(SRC, resolve(dirname(file), s)));
}

const layer = (path: string) => path.split('/')[0]!;
const files = sourceFiles(SRC).map((f) => ({ file: f, rel: relative(SRC, f), imports: relativeImports(f) }));

describe('architecture boundaries', () => {
  it('domain imports nothing of ours but domain (types from config allowed)', () => {
    const bad = files
      .filter((f) => layer(f.rel) === 'domain')
      .flatMap((f) => f.imports.filter((i) => !i.startsWith('domain/') && !i.startsWith('config/')).map((i) => `${f.rel} → ${i}`));
    expect(bad).toEqual([]);
  });

  it('domain only takes types from config, never values', () => {
    const bad = files
      .filter((f) => layer(f.rel) === 'domain')
      .filter((f) => /^import (?!type)[^;]*from '\.\.\/config\//m.test(readFileSync(f.file, 'utf8')))
      .map((f) => f.rel);
    expect(bad).toEqual([]);
  });

  it('slack and feishu only translate: they import src/app, src/chat, src/domain, src/config, the logger and their own files', () => {
    // Cross-cutting infrastructure besides the logger: the JSON error answer for HTTP bodies
    // (src/http-errors.ts), which the Feishu router mounts before any signature check.
    const allowed = (from: string, i: string) => ['app', 'chat', 'domain', 'config', layer(from)].includes(layer(i)) || i === 'logger' || i === 'http-errors';
    const bad = files
      .filter((f) => ['slack', 'feishu'].includes(layer(f.rel)))
      .flatMap((f) => f.imports.filter((i) => !allowed(f.rel, i)).map((i) => `${f.rel} → ${i}`));
    expect(bad).toEqual([]);
  });

  it('slack and feishu run no write use case themselves: every action, form and message goes through the chat dispatcher', () => {
    // The use cases that change tickets: only src/chat (the dispatcher and its form table) calls them.
    const writes = ['assignTicket', 'changePriority', 'claimTicket', 'closing', 'createTicket', 'handOff', 'messages', 'returnLeg', 'submitFeedback', 'acceptLeg', 'importTickets', 'index'];
    const bad = files
      .filter((f) => ['slack', 'feishu'].includes(layer(f.rel)))
      .flatMap((f) => {
        const text = readFileSync(f.file, 'utf8');
        return [...text.matchAll(/^import (?!type )[^;]*from '(\.\.\/app(?:\/(\w+))?)';/gm)]
          .filter((m) => writes.includes(m[2] ?? 'index'))
          .map((m) => `${f.rel} → ${m[1]}`);
      });
    expect(bad).toEqual([]);
  });

  it('shared code never asks which platform it runs on (capabilities of the adapters instead)', () => {
    const shared = files.filter((f) => ['chat', 'app', 'domain'].includes(layer(f.rel)));
    const bad = shared.filter((f) => /platform\s*===\s*'(slack|feishu)'|'(slack|feishu)'\s*===\s*\w*platform/i.test(readFileSync(f.file, 'utf8'))).map((f) => f.rel);
    expect(bad).toEqual([]);
  });

  it('only config reads process.env', () => {
    const bad = files.filter((f) => !f.rel.startsWith('config/') && /process\.env\b/.test(readFileSync(f.file, 'utf8'))).map((f) => f.rel);
    expect(bad).toEqual([]);
  });

  it('the core never reads the wall clock directly', () => {
    const bad = files
      .filter((f) => ['domain', 'app'].includes(layer(f.rel)) && f.rel !== 'app/context.ts' && f.rel !== 'app/ids.ts')
      .filter((f) => /Date\.now\(\)|new Date\(\)/.test(readFileSync(f.file, 'utf8')))
      .map((f) => f.rel);
    expect(bad).toEqual([]);
  });
});
