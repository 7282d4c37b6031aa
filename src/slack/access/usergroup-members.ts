/**
 * Members of Slack user groups (`S…` ids in APPROVERS and SETUP_ALLOWED), read with usergroups.users.list
 * and cached: that method is Tier 2 (~20/min) and every click asks. When Slack cannot answer, the last known
 * members are used; with none known, nobody is a member (access is refused, never granted, on doubt).
 * https://docs.slack.dev/reference/methods/usergroups.users.list
 */
import type { Log } from '../../log.js';
import type { SlackCalls } from '../web-api.js';

export interface UsergroupMembers {
  has(group: string, user: string): Promise<boolean>;
}

export interface UsergroupMembersOptions {
  calls: SlackCalls;
  log: Log;
  /** How long a member list is trusted. @defaultValue 5 min */
  ttlMs?: number;
  /** How long one lookup may take (a click must be answered quickly). @defaultValue 2 s */
  lookupMs?: number;
}

interface Entry {
  members: Set<string>;
  at: number;
}

export function createUsergroupMembers(options: UsergroupMembersOptions): UsergroupMembers {
  const ttl = options.ttlMs ?? 300_000;
  const cache = new Map<string, Entry>();
  const inFlight = new Map<string, Promise<Set<string>>>();

  async function lookup(group: string): Promise<Set<string>> {
    try {
      const result = await options.calls.call(
        'usergroups.users.list',
        { usergroup: group },
        { deadlineMs: options.lookupMs ?? 2000 },
      );
      const members = new Set(Array.isArray(result.users) ? (result.users as string[]) : []);
      cache.set(group, { members, at: Date.now() });
      return members;
    } catch (error) {
      const stale = cache.get(group);
      options.log.warn(
        { group, err: String(error), stale: stale !== undefined },
        'could not read user group members',
      );
      return stale?.members ?? new Set();
    }
  }

  async function members(group: string): Promise<Set<string>> {
    const entry = cache.get(group);
    if (entry !== undefined && Date.now() - entry.at < ttl) return entry.members;
    const pending = inFlight.get(group) ?? lookup(group).finally(() => inFlight.delete(group));
    inFlight.set(group, pending);
    return pending;
  }

  return { has: async (group, user) => (await members(group)).has(user) };
}
