import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { BOT_SCOPES } from '../../src/slack/health/bot-scopes.js';

const manifest = parse(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8'));

describe('manifest.yml', () => {
  it('declares /gitspaces with a usage hint, pointing at /slack/events', () => {
    expect(manifest.features.slash_commands).toEqual([
      expect.objectContaining({
        command: '/gitspaces',
        url: expect.stringMatching(/\/slack\/events$/),
        usage_hint: expect.stringMatching(/setup <vm>.*logs <vm> runner\|delegate \[lines\]/),
      }),
    ]);
    expect(manifest.settings.interactivity).toEqual({
      is_enabled: true,
      request_url: expect.stringMatching(/\/slack\/events$/),
    });
  });

  it('turns the Home tab on and subscribes to app_home_opened at /slack/events', () => {
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    expect(manifest.settings.event_subscriptions).toEqual({
      request_url: expect.stringMatching(/\/slack\/events$/),
      bot_events: ['app_home_opened'],
    });
  });

  it('asks for exactly the bot scopes the app uses', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([
      'chat:write',
      'chat:write.public',
      'commands',
      'files:write',
      'usergroups:read',
    ]);
    expect(manifest.oauth_config.scopes.user).toBeUndefined();
    // check-config and the start-up check hold a token to the same list.
    expect(Object.keys(BOT_SCOPES).sort()).toEqual([...manifest.oauth_config.scopes.bot].sort());
  });

  it('fits Slack’s limits and keeps token rotation off', () => {
    expect(manifest.display_information.description.length).toBeLessThanOrEqual(140);
    expect(manifest.display_information.long_description.length).toBeGreaterThanOrEqual(175);
    expect(manifest.features.bot_user.display_name).toBe('gitspaces');
    expect(manifest.settings.token_rotation_enabled).toBe(false);
    expect(typeof manifest.settings.socket_mode_enabled).toBe('boolean');
  });
});
