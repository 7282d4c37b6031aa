/**
 * Who may do what, checked on the server for every command and click (Slack's UI hides nothing that
 * matters: anyone can forge a click payload's intent by pressing a button in a broadcast message).
 */
import type { Config } from '../../config.js';
import type { RunRecord } from '../../queue/types.js';
import { mention } from '../blocks/format.js';
import type { UsergroupMembers } from './usergroup-members.js';

export type Verdict = { ok: true } | { ok: false; why: string };

export interface AccessPolicy {
  /** ALLOWED_CHANNELS (any channel when unset). */
  channel(channel: string): Verdict;
  /** SETUP_ALLOWED: starting runs, plans and live status checks. */
  start(user: string): Promise<Verdict>;
  /** APPROVERS, and not the requester unless ALLOW_SELF_APPROVAL. */
  decide(user: string, run: RunRecord): Promise<Verdict>;
  /** The requester or an approver. */
  cancel(user: string, run: RunRecord): Promise<Verdict>;
  /** Forgetting a watched VM: who set it up last, or an approver. */
  forget(user: string, requester: string): Promise<Verdict>;
  /** Listed in APPROVERS, by id or through a user group (the App Home shows them what waits). */
  approver(user: string): Promise<boolean>;
}

type AccessConfig = Pick<Config, 'approvers' | 'setupAllowed' | 'allowedChannels' | 'allowSelfApproval'>;

const OK: Verdict = { ok: true };

export function createAccessPolicy(config: AccessConfig, groups: UsergroupMembers): AccessPolicy {
  /** A user is in a list when listed by id or a member of a listed user group. */
  async function inList(list: readonly string[], user: string): Promise<boolean> {
    if (list.includes(user)) return true;
    const listedGroups = list.filter((id) => id.startsWith('S'));
    const found = await Promise.all(listedGroups.map((group) => groups.has(group, user)));
    return found.includes(true);
  }

  const approverList = () => config.approvers.map(mention).join(' ') || 'nobody (APPROVERS is empty)';

  return {
    channel(channel) {
      if (config.allowedChannels === undefined || config.allowedChannels.includes(channel)) return OK;
      const where = config.allowedChannels.map((c) => `<#${c}>`).join(', ');
      return {
        ok: false,
        why: `Gitspaces runs are not allowed in this channel. Use ${where} (ALLOWED_CHANNELS).`,
      };
    },
    async start(user) {
      if (config.setupAllowed === '*' || (await inList(config.setupAllowed, user))) return OK;
      return {
        ok: false,
        why: 'You are not allowed to start Gitspaces setups. Ask an admin to add you to SETUP_ALLOWED.',
      };
    },
    async decide(user, run) {
      if (!(await inList(config.approvers, user))) {
        return { ok: false, why: `Only approvers can decide on installing the delegate: ${approverList()}.` };
      }
      if (user === run.requester && !config.allowSelfApproval) {
        return {
          ok: false,
          why: 'You requested this run, so another approver has to decide (ALLOW_SELF_APPROVAL is off).',
        };
      }
      return OK;
    },
    async cancel(user, run) {
      if (user === run.requester || (await inList(config.approvers, user))) return OK;
      return {
        ok: false,
        why: `Only ${mention(run.requester)} (who requested it) or an approver can cancel this run.`,
      };
    },
    async forget(user, requester) {
      if (user === requester || (await inList(config.approvers, user))) return OK;
      return {
        ok: false,
        why: `Only ${mention(requester)} (who set it up) or an approver can stop watching this VM.`,
      };
    },
    approver(user) {
      return inList(config.approvers, user);
    },
  };
}
