import express from 'express';
import pino from 'pino';
import type { AppContext } from '../../src/app/context';
import { createFeishuApp } from '../../src/feishu/app';
import { resolveDomain } from '../../src/feishu/api';
import * as lark from '@larksuiteoapi/node-sdk';
import { feishuTestConfig } from '../fakes/feishu-harness';
import type { FeishuPorts } from '../../src/feishu/ports';

const ctx = { config: feishuTestConfig(), logger: pino({ level: 'silent' }), time: { now: () => new Date() } } as unknown as AppContext;
const ports: FeishuPorts = {
  links: { findByMessage: async () => undefined, list: async () => [], record: async () => undefined, bumpCardVersion: async () => true },
  members: { replace: async () => undefined },
};

describe('createFeishuApp', () => {
  it('is off, saying why, without credentials', () => {
    expect(createFeishuApp({ ctx, env: {}, ports })).toEqual({ enabled: false, reason: 'FEISHU_APP_ID and FEISHU_APP_SECRET are not set' });
  });

  it('uses the long connection by default and mounts no HTTP route', () => {
    const web = express();
    const app = createFeishuApp({ ctx, env: { FEISHU_APP_ID: 'cli_a1b2c3d4e5f60718', FEISHU_APP_SECRET: 's' }, ports, expressApp: web });
    expect(app.enabled && app.mode).toBe('ws');
    expect(app.enabled && app.router).toBeUndefined();
  });

  it('refuses an app id the long connection would silently never use', () => {
    const app = createFeishuApp({ ctx, env: { FEISHU_APP_ID: 'cli_a', FEISHU_APP_SECRET: 's' }, ports });
    expect(app).toEqual({ enabled: false, reason: 'FEISHU_APP_ID "cli_a" is not a Feishu app id (cli_ and 16 hex digits)' });
  });

  it('refuses HTTP mode without the encrypt key and verification token', () => {
    const app = createFeishuApp({ ctx, env: { FEISHU_APP_ID: 'cli_a', FEISHU_APP_SECRET: 's', FEISHU_MODE: 'http', FEISHU_ENCRYPT_KEY: 'k' }, ports });
    expect(app.enabled).toBe(false);
    expect(!app.enabled && app.reason).toContain('FEISHU_VERIFICATION_TOKEN');
  });

  it('reads FEISHU_DOMAIN as feishu, lark or a base URL', () => {
    expect(resolveDomain(undefined)).toBe(lark.Domain.Feishu);
    expect(resolveDomain('Lark')).toBe(lark.Domain.Lark);
    expect(resolveDomain('http://127.0.0.1:9999/')).toBe('http://127.0.0.1:9999');
    expect(() => resolveDomain('larksuite.com')).toThrow('FEISHU_DOMAIN');
  });
});
