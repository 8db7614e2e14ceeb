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

/** An integration's outgoing webhook with its signing secret read from the environment. */
export interface WebhookTarget {
  id: string;
  url: string;
  secret: string;
}

/**
 * The webhooks of the configured integrations (issue 18). One whose `secret_env` is unset or empty
 * is left out and named in `missing`: its rows wait in the outbox (nothing is sent unsigned).
 */
export function readWebhookTargets(raw: Pick<RawConfig, 'integrations'>, source: NodeJS.ProcessEnv = process.env): { targets: WebhookTarget[]; missing: string[] } {
  const targets: WebhookTarget[] = [];
  const missing: string[] = [];
  for (const integ of raw.integrations) {
    if (!integ.webhook) continue;
    const secret = source[integ.webhook.secret_env];
    if (secret && secret.length > 0) targets.push({ id: integ.id, url: integ.webhook.url, secret });
    else missing.push(`${integ.id} (${integ.webhook.secret_env} is not set)`);
  }
  return { targets, missing };
}
