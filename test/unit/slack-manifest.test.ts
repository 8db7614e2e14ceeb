import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ACTION, BOT_EVENTS, MESSAGE_SHORTCUT, SLASH_COMMAND, VIEW } from '../../src/slack/ids';

/** The manifest must declare everything the code listens to and request every scope its API calls need. */

const SRC = join(__dirname, '..', '..', 'src', 'slack');
const source = readdirSync(SRC)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => readFileSync(join(SRC, f), 'utf8'))
  .join('\n');
const manifest = parse(readFileSync(join(__dirname, '..', '..', 'manifests', 'slack', 'manifest.yaml'), 'utf8')) as {
  features: { slash_commands: Array<{ command: string }>; shortcuts: Array<{ callback_id: string; type: string }>; app_home: { home_tab_enabled: boolean } };
  oauth_config: { scopes: { bot: string[] } };
  settings: { event_subscriptions: { bot_events: string[] }; interactivity: { is_enabled: boolean } };
};

/** Scopes each Web API method needs (for the kinds of conversation we use: public, private, DM). */
const METHOD_SCOPES: Record<string, string[]> = {
  'auth.test': [],
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'chat.getPermalink': [],
  'views.open': [],
  'views.update': [],
  'views.publish': [],
  'users.info': ['users:read'],
  'conversations.info': ['channels:read', 'groups:read', 'im:read'],
  'conversations.members': ['channels:read', 'groups:read'],
  'conversations.open': ['im:write'],
  'conversations.history': ['channels:history', 'groups:history', 'im:history'],
  'conversations.replies': ['channels:history', 'groups:history', 'im:history'],
  'files.getUploadURLExternal': ['files:write'],
  'files.completeUploadExternal': ['files:write'],
  'files.info': ['files:read'],
};

const EVENT_SCOPES: Record<string, string[]> = {
  app_home_opened: [],
  'message.im': ['im:history'],
  'message.channels': ['channels:history'],
  'message.groups': ['groups:history'],
  reaction_added: ['reactions:read'],
  member_joined_channel: ['channels:read', 'groups:read'],
  member_left_channel: ['channels:read', 'groups:read'],
};

/** Scopes requested for a reason no method call shows. */
const EXTRA_SCOPES: Record<string, string> = {
  commands: 'the /ticket command and the message shortcut',
  'users:read.email': 'users.info returns emails only with it (config references email:…)',
  'metadata.message:read': 'reading our outbox tags back from conversations.history',
};

/** Scopes a Block Kit element needs wherever it is shown (https://api.slack.com/reference/block-kit/block-elements#file_input). */
const ELEMENT_SCOPES: Record<string, string[]> = {
  file_input: ['files:read'],
};

describe('Slack manifest', () => {
  it('declares the command and the message shortcut the code registers', () => {
    expect(source).toContain('app.command(SLASH_COMMAND');
    expect(manifest.features.slash_commands.map((c) => c.command)).toContain(SLASH_COMMAND);
    expect(source).toContain('app.shortcut(MESSAGE_SHORTCUT');
    expect(manifest.features.shortcuts).toContainEqual(expect.objectContaining({ callback_id: MESSAGE_SHORTCUT, type: 'message' }));
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
  });

  it('subscribes to every event the code listens to', () => {
    const registered = [...source.matchAll(/app\.event\('(\w+)'/g)].map((m) => m[1]!);
    expect(registered.length).toBeGreaterThan(3);
    const declared = new Set(manifest.settings.event_subscriptions.bot_events);
    for (const name of registered) {
      const needed = name === 'message' ? ['message.im', 'message.channels', 'message.groups'] : [name];
      for (const n of needed) expect([name, declared.has(n)]).toEqual([name, true]);
    }
    expect([...declared].sort()).toEqual([...BOT_EVENTS].sort());
  });

  it('has interactivity on, and every action and view callback is both registered and rendered', () => {
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    const registrations = source.replace(/\s+/g, ' ');
    for (const [name, id] of Object.entries(ACTION)) {
      // Registered by a listener (directly or through a helper), and produced by a presenter.
      const used = new RegExp(`ACTION\\.${name}\\b`).test(source);
      expect([id, used]).toEqual([id, true]);
    }
    for (const [name, id] of Object.entries(VIEW)) {
      expect([id, new RegExp(`VIEW\\.${name}\\b`).test(registrations)]).toEqual([id, true]);
    }
  });

  it('requests every scope the API calls and events need, and no more', () => {
    const calls = new Set([...source.matchAll(/client\.(\w+)\.(\w+)\(/g)].map((m) => `${m[1]}.${m[2]}`));
    expect(calls.size).toBeGreaterThan(8);
    const granted = new Set(manifest.oauth_config.scopes.bot);
    const needed = new Set<string>(Object.keys(EXTRA_SCOPES));
    for (const method of calls) {
      const scopes = METHOD_SCOPES[method];
      // A new API call must be added to METHOD_SCOPES (and its scopes to the manifest).
      expect([method, scopes !== undefined]).toEqual([method, true]);
      for (const s of scopes ?? []) needed.add(s);
    }
    for (const event of manifest.settings.event_subscriptions.bot_events) for (const s of EVENT_SCOPES[event] ?? ['unknown event']) needed.add(s);
    for (const [element, scopes] of Object.entries(ELEMENT_SCOPES)) if (source.includes(`type: '${element}'`)) for (const s of scopes) needed.add(s);
    for (const s of needed) expect([s, granted.has(s)]).toEqual([s, true]);
    for (const s of granted) expect([s, needed.has(s)]).toEqual([s, true]);
  });
});
