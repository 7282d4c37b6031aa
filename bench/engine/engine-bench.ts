/**
 * 4. Engine overhead: a full setup (bare VM → runner and delegate up, approval given at once) by the engine
 * against the test VM (OpenSSH sshd, the Docker stand-in), against the floor: the very commands that run
 * recorded, replayed as one script through one `ssh` invocation. Samples alternate engine/floor.
 */
import { connectSsh } from '../../src/ssh/connect.js';
import { now } from '../lib/clock.js';
import { fmt, type GoalRow, row } from '../lib/goals.js';
import { size } from '../lib/mode.js';
import { type Summary, summarize } from '../lib/stats.js';
import { startBenchVm } from '../lib/test-vm.js';
import { type Recording, recordingConnector } from './recording-connector.js';
import { replayScript, runOverSsh } from './replay-script.js';

export interface EngineResults {
  samples: number;
  commands: number;
  fileWrites: number;
  sshConnections: number;
  engineMs: Summary;
  floorMs: Summary;
  ratio: number;
  overheadMsPerRun: number;
  overheadMsPerCommand: number;
  notes: string[];
}

export async function engineBench(): Promise<{ results: EngineResults; goals: GoalRow[] }> {
  const count = size(4, 30);
  const vm = await startBenchVm();
  const target = {
    host: vm.sshd.host,
    port: vm.sshd.port,
    user: vm.sshd.user,
    keyFile: vm.secrets.files.sshKey,
    knownHostsFile: vm.sshd.knownHostsFile,
  };
  const engine: number[] = [];
  const floor: number[] = [];
  let recording: Recording = { ops: [], connections: 0 };

  async function engineRun(): Promise<number> {
    vm.resetDocker();
    const rec: Recording = { ops: [], connections: 0 };
    const started = now();
    const { result } = await vm.run({ deps: { connect: recordingConnector(connectSsh, rec) } });
    const ms = now() - started;
    if (result.state !== 'succeeded')
      throw new Error(`engine run ended ${result.state}: ${result.error?.message}`);
    recording = rec;
    return ms;
  }

  async function floorRun(script: string): Promise<number> {
    vm.resetDocker();
    const { ms } = await runOverSsh(target, script);
    const containers = Object.values(vm.sshd.dockerState().containers).map((c) => `${c.name}:${c.status}`);
    if (containers.length !== 2 || !containers.every((c) => c.endsWith(':running')))
      throw new Error(`the replayed script left ${containers.join(', ') || 'no containers'}`);
    return ms;
  }

  let script = '';
  try {
    // Warm-up (not counted): records the commands the floor replays.
    await engineRun();
    script = replayScript(recording.ops);
    await floorRun(script);
    for (let i = 0; i < count; i++) {
      if (i % 2 === 0) {
        engine.push(await engineRun());
        floor.push(await floorRun(script));
      } else {
        floor.push(await floorRun(script));
        engine.push(await engineRun());
      }
    }
  } finally {
    await vm.stop();
  }

  const engineMs = summarize(engine);
  const floorMs = summarize(floor);
  const commands = recording.ops.filter((op) => op.kind === 'exec').length;
  const overhead = engineMs.p50 - floorMs.p50;
  const results: EngineResults = {
    samples: count,
    commands,
    fileWrites: recording.ops.length - commands,
    sshConnections: recording.connections,
    engineMs,
    floorMs,
    ratio: engineMs.p50 / floorMs.p50,
    overheadMsPerRun: overhead,
    overheadMsPerCommand: overhead / Math.max(1, commands),
    notes: [
      'engine: runSetup on a bare test VM with the approval given at once, memory journal, no Redis, no Slack.',
      'floor: the same commands (recorded from the engine) as one script through one OpenSSH `ssh` invocation, each as `sh -c <command>`, SFTP writes as base64 decodes.',
      'Every docker command runs the Docker stand-in (a Node.js script) on the VM, in both.',
    ],
  };
  const goals = [
    row(
      '4',
      `engine full run vs one-script floor (${commands} commands, ${results.fileWrites} file writes)`,
      '≤ 2× floor; state the absolute overhead',
      `engine p50 ${fmt(engineMs.p50, 0)} ms vs floor p50 ${fmt(floorMs.p50, 0)} ms → ${fmt(results.ratio, 2)}×; overhead ${fmt(overhead, 0)} ms per run (${fmt(results.overheadMsPerCommand)} ms per command), n=${count} each`,
      results.ratio <= 2,
    ),
  ];
  return { results, goals };
}
