import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The config file to use: TICKETBOT_CONFIG, else ./ticketbot.yaml. */
export function defaultConfigPath(env: { TICKETBOT_CONFIG?: string | undefined } = process.env): string {
  return env.TICKETBOT_CONFIG ?? './ticketbot.yaml';
}

/** The shipped example, used by `npm start` when no config file exists. */
export const EXAMPLE_CONFIG_PATH = join(__dirname, '..', '..', 'config', 'example.yaml');

/** Picks the config file for start-up; `usedExample` tells the caller to say so. */
export function locateConfig(env: { TICKETBOT_CONFIG?: string | undefined } = process.env): { path: string; usedExample: boolean } {
  const wanted = defaultConfigPath(env);
  if (env.TICKETBOT_CONFIG === undefined && !existsSync(wanted)) return { path: EXAMPLE_CONFIG_PATH, usedExample: true };
  return { path: wanted, usedExample: false };
}
