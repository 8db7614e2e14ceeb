import type { RawConfig } from './schema';

/** An intake-API client with its key read from the environment (only src/config reads process.env). */
export interface IntegrationKey {
  id: string;
  key: string;
}

/**
 * The keys of the configured integrations. An integration whose variable is unset or empty is left
 * out (its requests get 401) and named in `missing`, so the start can say why.
 */
export function readIntegrationKeys(raw: Pick<RawConfig, 'integrations'>, source: NodeJS.ProcessEnv = process.env): { keys: IntegrationKey[]; missing: string[] } {
  const keys: IntegrationKey[] = [];
  const missing: string[] = [];
  for (const integ of raw.integrations) {
    const key = source[integ.key_env];
    if (key && key.length > 0) keys.push({ id: integ.id, key });
    else missing.push(`${integ.id} (${integ.key_env} is not set)`);
  }
  return { keys, missing };
}
