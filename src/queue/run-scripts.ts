/**
 * The atomic transitions of a run record (a Redis hash; steps are `step:<id>` fields so that no writer
 * rewrites another's data). Each script checks and changes the record in one step, so simultaneous
 * clicks, a cancel racing a worker, or two starts on one VM always resolve to exactly one winner.
 */
import { LuaScript } from './lua-script.js';

/**
 * Reserves the VM and writes the new record, or answers the run holding the VM. A reservation whose run
 * is finished or gone is stale and taken over; so is one whose BullMQ job is gone (BullMQ failed it after
 * its workers died too often), and that run is ended as failed at the step it was in.
 * KEYS: vmActive, run, audit, allRuns, channelRuns, vmLast
 * ARGV: runId, now, auditEntry, keepAll, keepPerChannel, runKeyPrefix, jobKeyPrefix, lostAuditEntry,
 *       ttlSeconds, field, value, …
 */
export const CREATE_RUN = new LuaScript(`
local active = redis.call('GET', KEYS[1])
if active then
  local activeKey = ARGV[6] .. active
  if redis.call('EXISTS', activeKey) == 1 and not redis.call('HGET', activeKey, 'finishedAt') then
    if redis.call('EXISTS', ARGV[7] .. active) == 1 then return {0, active} end
    local state = redis.call('HGET', activeKey, 'state') or 'queued'
    local failed = 'failed:preflight'
    if string.sub(state, 1, 8) == 'running:' then failed = 'failed:' .. string.sub(state, 9) end
    if state == 'awaiting-approval' then failed = 'failed:approval' end
    redis.call('HSET', activeKey, 'state', failed, 'finishedAt', ARGV[2], 'updatedAt', ARGV[2])
    redis.call('RPUSH', activeKey .. ':audit', ARGV[8])
    redis.call('EXPIRE', activeKey, ARGV[9])
    redis.call('EXPIRE', activeKey .. ':audit', ARGV[9])
  end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], unpack(ARGV, 10))
redis.call('RPUSH', KEYS[3], ARGV[3])
-- Runs started in the same millisecond still list in the order they started.
local score = tonumber(ARGV[2])
local newest = redis.call('ZREVRANGE', KEYS[4], 0, 0, 'WITHSCORES')
if newest[2] and tonumber(newest[2]) >= score then score = tonumber(newest[2]) + 1 end
redis.call('ZADD', KEYS[4], score, ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -1 - tonumber(ARGV[4]))
redis.call('ZADD', KEYS[5], score, ARGV[1])
redis.call('ZREMRANGEBYRANK', KEYS[5], 0, -1 - tonumber(ARGV[5]))
redis.call('SET', KEYS[6], ARGV[1])
return {1, ARGV[1]}
`);

/**
 * Sets fields (and appends an audit entry) unless the run is finished: a late step report never
 * overwrites a final state. With a watched field, the entry is appended only when that field changed,
 * so a resumed run replaying its finished steps does not repeat them in the audit. A soft state is not
 * applied while the run waits for a decision: a run woken early re-runs its preflight, yet still waits.
 * KEYS: run, audit
 * ARGV: now, auditEntry or '', keepAudit, watchedField or '', state or '', soft ('1' or '0'), field, value, …
 * Returns 1 updated, 0 finished, -1 missing.
 */
export const UPDATE_OPEN_RUN = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('HGET', KEYS[1], 'finishedAt') then return 0 end
local watched = ARGV[4]
local before = watched ~= '' and redis.call('HGET', KEYS[1], watched)
if #ARGV > 6 then redis.call('HSET', KEYS[1], unpack(ARGV, 7)) end
local waiting = redis.call('HGET', KEYS[1], 'approvalExpiresAt') and not redis.call('HGET', KEYS[1], 'decision')
if ARGV[5] ~= '' and not (ARGV[6] == '1' and waiting) then redis.call('HSET', KEYS[1], 'state', ARGV[5]) end
redis.call('HSET', KEYS[1], 'updatedAt', ARGV[1])
if ARGV[2] ~= '' and (watched == '' or before ~= redis.call('HGET', KEYS[1], watched)) then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[3]), -1)
end
return 1
`);

/**
 * Records the decision on a run whose approval request is out (it has an expiry) and undecided, once. A
 * decision after the request ran out records the expiry instead, so a late click can never approve.
 * KEYS: run, audit
 * ARGV: now, decision, auditEntry, expiredDecision, expiredAuditEntry
 * Returns 'ok', 'already-decided', 'expired', 'not-waiting' or 'not-found'.
 */
export const DECIDE_RUN = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'not-found' end
local decided = redis.call('HGET', KEYS[1], 'decision')
if decided then
  if cjson.decode(decided).kind == 'expired' then return 'expired' end
  return 'already-decided'
end
if redis.call('HGET', KEYS[1], 'state') == 'expired' then return 'expired' end
local expiresAt = tonumber(redis.call('HGET', KEYS[1], 'approvalExpiresAt'))
if not expiresAt or redis.call('HGET', KEYS[1], 'finishedAt') then return 'not-waiting' end
if tonumber(ARGV[1]) >= expiresAt then
  redis.call('HSET', KEYS[1], 'decision', ARGV[4], 'updatedAt', ARGV[1])
  redis.call('RPUSH', KEYS[2], ARGV[5])
  return 'expired'
end
redis.call('HSET', KEYS[1], 'decision', ARGV[2], 'updatedAt', ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[3])
return 'ok'
`);

/**
 * A worker taking up a run: a queued run becomes running; a cancelled one is left alone.
 * KEYS: run
 * ARGV: now, runningState
 * Returns 'ok', 'finished' or 'not-found'.
 */
export const BEGIN_RUN = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'not-found' end
if redis.call('HGET', KEYS[1], 'finishedAt') then return 'finished' end
if redis.call('HGET', KEYS[1], 'state') == 'queued' then
  redis.call('HSET', KEYS[1], 'state', ARGV[2], 'updatedAt', ARGV[1])
end
return 'ok'
`);

/**
 * Ends a run in a final state (once), frees its VM and starts the retention clock. With a required state,
 * only a run still in that state is ended (cancelling a queued run loses to a worker taking it up).
 * KEYS: run, audit, vmActive, vmLast
 * ARGV: now, finalState, ttlSeconds, runId, requiredState or '', auditEntry, …
 * Returns 'ok', 'finished', 'not-found' or 'state:<current state>'.
 */
export const FINISH_RUN = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 'not-found' end
if redis.call('HGET', KEYS[1], 'finishedAt') then return 'finished' end
local state = redis.call('HGET', KEYS[1], 'state')
if ARGV[5] ~= '' and state ~= ARGV[5] then return 'state:' .. state end
redis.call('HSET', KEYS[1], 'state', ARGV[2], 'finishedAt', ARGV[1], 'updatedAt', ARGV[1])
redis.call('RPUSH', KEYS[2], unpack(ARGV, 6))
if redis.call('GET', KEYS[3]) == ARGV[4] then redis.call('DEL', KEYS[3]) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
if redis.call('GET', KEYS[4]) == ARGV[4] then redis.call('EXPIRE', KEYS[4], ARGV[3]) end
return 'ok'
`);

/**
 * Records where a run's Slack messages are (its parent, its approval request), finished or not: a parent
 * posted after its queued run was cancelled is still the run's.
 * KEYS: run. ARGV: field, value pairs. Returns 1, or 0 when the run has no record.
 */
export const ATTACH_MESSAGES = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV))
return 1
`);
