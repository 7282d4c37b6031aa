/**
 * Watches the delegate on the tier's engine while the bot replaces it: Docker's own event times for the old
 * container's stop and the new one's creation, and the moment the new one's health endpoint first answers,
 * asked from this machine at the container's address every 25 ms (the engine's networks are bridges on
 * this host), so the figure does not depend on how often the bot looks.
 */
import { spawn } from 'node:child_process';
import type { EngineTier } from '../../test/support/engine/tier.js';

const POLL_MS = 25;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Wall-clock milliseconds with sub-millisecond precision, the clock Docker's events use. */
const wallNow = () => performance.timeOrigin + performance.now();

export interface Replacement {
  /** When Docker began stopping the old delegate (its `kill` event). */
  stoppedAt: number;
  /** When the new delegate was created and started (its `create` and `start` events). */
  createdAt: number;
  startedAt: number;
  /** When its health endpoint first answered. */
  healthyAt: number;
}

interface DockerEvent {
  Action?: string;
  timeNano?: number;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

async function firstHealthy(
  tier: EngineTier,
  id: string,
  network: string,
  stop: () => boolean,
): Promise<number> {
  const format = `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`;
  let address = '';
  while (address === '' && !stop()) {
    address = tier.engine.tryDocker(['inspect', '-f', format, id]).stdout.trim();
    if (address === '') await sleep(POLL_MS);
  }
  while (!stop()) {
    const ok = await fetch(`http://${address}:3460/api/health`, { signal: AbortSignal.timeout(500) }).then(
      (res) => res.ok,
      () => false,
    );
    if (ok) return wallNow();
    await sleep(POLL_MS);
  }
  throw new Error(`the new delegate ${id} never answered its health endpoint`);
}

/** Starts watching `name`; `done()` resolves with the replacement seen (or rejects when there was none). */
export function watchReplacement(tier: EngineTier, name: string, network: string) {
  const events = spawn('docker', ['events', '--filter', 'type=container', '--format', '{{json .}}'], {
    env: { ...process.env, DOCKER_HOST: tier.engine.host },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const oldId = tier.engine.tryDocker(['inspect', '-f', '{{.Id}}', name]).stdout.trim();
  const seen: Partial<Replacement> = {};
  let stopped = false;
  let healthy: Promise<number> | undefined;
  let buffer = '';
  events.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      const event = JSON.parse(line) as DockerEvent;
      const at = (event.timeNano ?? 0) / 1e6;
      const id = event.Actor?.ID ?? '';
      if (id === oldId && event.Action === 'kill' && seen.stoppedAt === undefined) seen.stoppedAt = at;
      if (id === oldId || event.Actor?.Attributes?.name !== name) continue;
      if (event.Action === 'create') seen.createdAt = at;
      if (event.Action === 'start' && healthy === undefined) {
        seen.startedAt = at;
        healthy = firstHealthy(tier, id, network, () => stopped);
      }
    }
  });
  return {
    async done(): Promise<Replacement> {
      // The bot saw it healthy already; give our own poll a moment to have seen it too.
      const healthyAt = await Promise.race([
        healthy ?? Promise.reject(new Error('no new delegate started')),
        sleep(10_000).then(() => undefined),
      ]);
      stopped = true;
      events.kill();
      const { stoppedAt, createdAt, startedAt } = seen;
      if (
        healthyAt === undefined ||
        stoppedAt === undefined ||
        createdAt === undefined ||
        startedAt === undefined
      )
        throw new Error(`incomplete replacement: ${JSON.stringify({ ...seen, healthyAt })}`);
      return { stoppedAt, createdAt, startedAt, healthyAt };
    },
  };
}
