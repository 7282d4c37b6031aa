/**
 * SSH carried through Google's Identity-Aware Proxy without the Google Cloud CLI (SSH_IAP=true): what
 * `gcloud compute start-iap-tunnel` does, spoken directly. A WebSocket to IAP's relay
 * (`wss://tunnel.cloudproxy.app/v4/connect?project=…&zone=…&instance=…&interface=nic0&port=22`, subprotocol
 * `relay.tunnel.cloudproxy.app`, a bearer token of the bot's credentials) carries frames tagged by two bytes:
 * CONNECT_SUCCESS_SID (1) opens the tunnel, DATA (4) holds at most 16 KiB, ACK (7) counts the bytes
 * received, sent back after every 32 KiB as gcloud does. A tunnel that drops is not resumed: the SSH session
 * fails as a lost connection, which a run retries on a new one.
 */
import type { Agent } from 'node:http';
import { Duplex } from 'node:stream';
import WebSocket from 'ws';
import { GitspacesError } from '../errors.js';
import type { Route, RunningProxy } from './proxy-command.js';

const IAP_RELAY_URL = 'wss://tunnel.cloudproxy.app/v4';
const IAP_SUBPROTOCOL = 'relay.tunnel.cloudproxy.app';
/** The Origin IAP's relay expects of a client that is not a browser. */
const IAP_ORIGIN = 'bot:iap-tunneler';
const TAG = { connectSuccessSid: 0x0001, reconnectSuccessAck: 0x0002, data: 0x0004, ack: 0x0007 };
export const MAX_DATA_FRAME = 16_384;
const ACK_EVERY = 2 * MAX_DATA_FRAME;
const OPEN_TIMEOUT_MS = 20_000;

interface IapTarget {
  project: string;
  zone: string;
  instance: string;
  port: number;
}

export interface IapOptions {
  /** The relay's base URL (IAP_TUNNEL_URL for tests), else Google's. */
  url?: string | undefined;
  /** A bearer token of the bot's credentials; undefined sends none (a local stand-in). */
  token(): Promise<string | undefined>;
  /** The egress proxy's agent for the relay's URL (egress-proxy.ts); undefined connects directly. */
  agentFor?: ((url: string) => Agent | undefined) | undefined;
}

function connectUrl(base: string, target: IapTarget): string {
  const query = new URLSearchParams({
    project: target.project,
    port: String(target.port),
    newWebsocket: 'True',
    zone: target.zone,
    instance: target.instance,
    interface: 'nic0',
  });
  return `${base.replace(/\/$/, '')}/connect?${query}`;
}

function dataFrame(data: Buffer): Buffer {
  const head = Buffer.alloc(6);
  head.writeUInt16BE(TAG.data, 0);
  head.writeUInt32BE(data.length, 2);
  return Buffer.concat([head, data]);
}

function ackFrame(bytes: number): Buffer {
  const frame = Buffer.alloc(10);
  frame.writeUInt16BE(TAG.ack, 0);
  frame.writeBigUInt64BE(BigInt(bytes), 2);
  return frame;
}

/** What IAP said when it closed the tunnel before it opened (its close code, if any), with what usually causes it. */
function closedEarly(target: IapTarget, reason: string, code?: number): GitspacesError {
  const hints: Record<number, string> = {
    4003: ` (Failed to connect to port ${target.port}): the VM needs a firewall rule allowing tcp:${target.port} from 35.235.240.0/20, and sshd listening`,
    4033: ": the bot's identity needs roles/iap.tunnelResourceAccessor on the VM or its project",
    4047: ': IAP found no such VM; check its project, zone and name',
  };
  return new GitspacesError(
    'SSH_CONNECT_FAILED',
    `IAP did not open a tunnel to ${target.instance} (project ${target.project}, zone ${target.zone}): ${reason}${(code && hints[code]) ?? ''}.`,
    { retryable: code !== 4033 && code !== 4047 },
  );
}

/** One tunnel: its WebSocket, the stream SSH runs over, and how it ended if it ended before opening. */
class Tunnel {
  readonly sock: Duplex;
  failure: GitspacesError | undefined;
  private ws: WebSocket | undefined;
  private connected = false;
  private received = 0;
  private acked = 0;
  /** Resolves on CONNECT_SUCCESS_SID; rejects with why IAP did not open the tunnel. */
  readonly opened: Promise<WebSocket>;
  private settle: { resolve(ws: WebSocket): void; reject(error: GitspacesError): void } | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly agentFor: IapOptions['agentFor'];

  constructor(
    private readonly target: IapTarget,
    options: IapOptions,
  ) {
    this.agentFor = options.agentFor;
    this.sock = new Duplex({
      read() {},
      write: (chunk: Buffer, _encoding, done) => void this.send(chunk).then(() => done(), done),
      final: (done) => {
        this.ws?.close(1000);
        done();
      },
      destroy: (error, done) => {
        this.ws?.terminate();
        done(error);
      },
    });
    this.opened = new Promise<WebSocket>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    this.opened.catch(() => undefined);
    this.timer = setTimeout(() => this.fail(`no answer within ${OPEN_TIMEOUT_MS / 1000} s`), OPEN_TIMEOUT_MS);
    options.token().then(
      (token) => {
        if (!this.sock.destroyed) this.ws = this.connect(options.url ?? IAP_RELAY_URL, token);
      },
      (error: unknown) => this.fail(error),
    );
  }

  /**
   * The tunnel did not open: IAP's reason (or the token's failure) is kept before the stream ends, so that
   * the SSH client's failure finds it, and nothing waits for the tunnel any longer.
   */
  private fail(reason: unknown, code?: number): void {
    clearTimeout(this.timer);
    this.failure ??=
      reason instanceof GitspacesError ? reason : closedEarly(this.target, String(reason), code);
    this.settle?.reject(this.failure);
    this.sock.destroy(this.failure);
  }

  private connect(url: string, token: string | undefined): WebSocket {
    const target = connectUrl(url, this.target);
    const agent = this.agentFor?.(target);
    const ws = new WebSocket(target, [IAP_SUBPROTOCOL], {
      origin: IAP_ORIGIN,
      headers: { 'User-Agent': 'gitspaces-bot', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      handshakeTimeout: OPEN_TIMEOUT_MS,
      ...(agent === undefined ? {} : { agent }),
    });
    ws.on('unexpected-response', (_request, response) =>
      this.fail(
        `Handshake status ${response.statusCode} (may be due to missing permissions)`,
        response.statusCode === 403 ? 4033 : undefined,
      ),
    );
    ws.on('message', (message: Buffer, binary) => {
      if (!binary || message.length < 2) return;
      const tag = message.readUInt16BE(0);
      if (tag === TAG.connectSuccessSid && !this.connected) {
        this.connected = true;
        clearTimeout(this.timer);
        this.settle?.resolve(ws);
      } else if (tag === TAG.data && message.length >= 6) this.receive(ws, message);
    });
    ws.on('close', (code, reason) => {
      if (this.connected) return void this.sock.destroy();
      const said = `${code}${reason.length > 0 ? `: ${reason.toString('utf8')}` : ''}`;
      this.fail(`Error while connecting [${said}]`, code);
    });
    ws.on('error', (error) => {
      if (this.connected) this.sock.destroy(error);
      else this.fail(error.message);
    });
    return ws;
  }

  /** A DATA frame to SSH; every 32 KiB received is acknowledged, as gcloud does. */
  private receive(ws: WebSocket, message: Buffer): void {
    const data = message.subarray(6, 6 + message.readUInt32BE(2));
    this.received += data.length;
    this.sock.push(data);
    if (this.received - this.acked > ACK_EVERY) {
      this.acked = this.received;
      ws.send(ackFrame(this.received));
    }
  }

  private async send(chunk: Buffer): Promise<void> {
    const ws = await this.opened;
    for (let at = 0; at < chunk.length; at += MAX_DATA_FRAME) {
      const frame = dataFrame(chunk.subarray(at, at + MAX_DATA_FRAME));
      await new Promise<void>((resolve, reject) => ws.send(frame, (e) => (e ? reject(e) : resolve())));
    }
  }
}

/** Opens a tunnel to `target`'s port through IAP, as a RunningProxy whose `sock` SSH runs over. */
function startIapTunnel(target: IapTarget, options: IapOptions): RunningProxy {
  const tunnel = new Tunnel(target, options);
  return {
    sock: tunnel.sock,
    failure: async () => tunnel.failure,
    stop: () => void tunnel.sock.destroy(),
  };
}

/** SSH_IAP as a route: the VM by name, zone and project, as the Compute API found it. */
export function iapRoute(options: IapOptions): Route {
  return {
    via: 'through IAP',
    start: ({ vm, zone, project, port }) => {
      if (zone === undefined || project === undefined)
        throw new GitspacesError(
          'CONFIG_INVALID',
          `SSH_IAP reaches a VM by name, zone and project, which ${vm} was not given with: give the VM by name (vm, zone/vm or project/zone/vm), not --host.`,
        );
      return startIapTunnel({ project, zone, instance: vm, port }, options);
    },
  };
}
