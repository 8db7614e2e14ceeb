import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** The repository root, where `npm run ticketbot` runs. */
export const ROOT = join(__dirname, '..', '..');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node --import tsx ARGS` from the repository root as a real process (exit code and output
 * as a user sees them). `env` adds to this process's environment; `undefined` removes a variable.
 */
export function runNode(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, FORCE_COLOR: '0', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `ticketbot ARGS` (src/cli.ts) as a real process. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return runNode(['src/cli.ts', ...args], env);
}
