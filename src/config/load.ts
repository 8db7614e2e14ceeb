import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { configSchema, type RawConfig } from './schema';
import { buildConfig, type Config } from './model';

/** A config problem with the path of the key it concerns, e.g. `departments[2].calendar`. */
export interface ConfigProblem {
  path: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`${file}: ${problems.length} problem(s) in config\n` + problems.map((p) => `  ${p.path}: ${p.message}`).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out || '(root)';
}

/** Parses config text (YAML); returns the checked config or every problem found. */
export function parseConfigText(text: string): { ok: true; config: Config; raw: RawConfig } | { ok: false; problems: ConfigProblem[] } {
  const doc = parseDocument(text, { prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => ({ path: `line ${(e.linePos?.[0]?.line ?? 0)}`, message: e.message.split('\n')[0] ?? e.message })),
    };
  }
  const parsed = configSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error) };
  return { ok: true, config: buildConfig(parsed.data), raw: parsed.data };
}

export function problemsOf(error: z.ZodError): ConfigProblem[] {
  return error.issues.map((issue) => ({ path: formatPath(issue.path), message: describeIssue(issue) }));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
  if (issue.code === 'invalid_type') {
    const received = /received (\w+)/.exec(issue.message)?.[1];
    return received === 'undefined' ? `required (expected ${issue.expected})` : `expected ${issue.expected}, got ${received ?? 'something else'}`;
  }
  return issue.message;
}

/** Reads and checks a config file; throws ConfigError naming every problem. */
export function loadConfigFile(file: string): Config {
  const path = resolve(file);
  if (!existsSync(path)) throw new ConfigError(file, [{ path: '(file)', message: `config file not found: ${path}` }]);
  const result = parseConfigText(readFileSync(path, 'utf8'));
  if (!result.ok) throw new ConfigError(file, result.problems);
  return result.config;
}

/** The JSON Schema of the config file, for editors. */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' });
}
