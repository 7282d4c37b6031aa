/**
 * A stand-in for IAP's tunnel relay (`wss://tunnel.cloudproxy.app/v4/connect`; Google's servers cannot run
 * here), on a loopback port, speaking the relay subprotocol as the Google Cloud CLI's client expects it:
 * it refuses a handshake without the `relay.tunnel.cloudproxy.app` subprotocol or the `bot:iap-tunneler`
 * origin (400), or with the token `denied` (403, as IAP refuses an identity without access), looks the instance up in its routes (closing with 4047 when it knows none), connects to the
 * instance's port (closing with 4003 when nothing answers), says CONNECT_SUCCESS_SID, then carries DATA
 * frames of at most 16 KiB both ways, acknowledging every 32 KiB it received. It records each tunnel: the
 * request, the largest DATA frame the client sent, the client's ACKs.
 */
import type { IncomingMessage } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';

const SUBPROTOCOL = 'relay.tunnel.cloudproxy.app';
const MAX_FRAME = 16_384;

export interface RelayedTunnel {
  path: string;
  query: Record<string, string>;
  origin: string | undefined;
  authorization: string | undefined;
  /** Bytes of DATA the client sent and the largest single frame. */
  fromClient: number;
  largestClientFrame: number;
  /** The byte counts the client acknowledged, in order. */
  clientAcks: number[];
  toClient: number;
}

function frame(tag: number, body: Buffer, lengthPrefixed: boolean): Buffer {
  const head = Buffer.alloc(lengthPrefixed ? 6 : 2);
  head.writeUInt16BE(tag, 0);
  if (lengthPrefixed) head.writeUInt32BE(body.length, 2);
  return Buffer.concat([head, body]);
}

export class IapRelayStandIn {
  readonly tunnels: RelayedTunnel[] = [];
  private readonly sockets = new Set<WebSocket>();

  constructor(
    private readonly server: WebSocketServer,
    /** `project/zone/instance` → `host:port` of its nic0. */
    readonly routes: Map<string, string>,
  ) {
    server.on('connection', (ws, request) => this.tunnel(ws, request));
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.server.address() as AddressInfo).port}/v4`;
  }

  /** Ends every open tunnel at once, as a relay that goes away does. */
  dropAll(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  close(): Promise<void> {
    this.dropAll();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private tunnel(ws: WebSocket, request: IncomingMessage): void {
    const url = new URL(request.url ?? '/', 'ws://relay');
    const query = Object.fromEntries(url.searchParams);
    const record: RelayedTunnel = {
      path: url.pathname,
      query,
      origin: request.headers.origin,
      authorization: request.headers.authorization,
      fromClient: 0,
      largestClientFrame: 0,
      clientAcks: [],
      toClient: 0,
    };
    this.tunnels.push(record);
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    const target = this.routes.get(`${query.project}/${query.zone}/${query.instance}`);
    if (url.pathname !== '/v4/connect' || query.interface !== 'nic0' || target === undefined) {
      ws.close(4047, 'Failed to lookup instance');
      return;
    }
    const [host, port] = target.split(':') as [string, string];
    const backend = connect({ host, port: Number(port) });
    let opened = false;
    let acked = 0;
    backend.on('connect', () => {
      opened = true;
      ws.send(frame(0x0001, Buffer.from(`sid-${this.tunnels.length}`), true));
    });
    backend.on('error', () => {
      if (!opened) ws.close(4003, 'failed to connect to backend');
      else ws.terminate();
    });
    backend.on('close', () => ws.close(1000));
    backend.on('data', (data: Buffer) => {
      for (let at = 0; at < data.length; at += MAX_FRAME) {
        const part = data.subarray(at, at + MAX_FRAME);
        record.toClient += part.length;
        ws.send(frame(0x0004, part, true));
      }
    });
    ws.on('message', (message: Buffer) => {
      const tag = message.readUInt16BE(0);
      if (tag === 0x0007) record.clientAcks.push(Number(message.readBigUInt64BE(2)));
      if (tag !== 0x0004) return;
      const data = message.subarray(6, 6 + message.readUInt32BE(2));
      record.fromClient += data.length;
      record.largestClientFrame = Math.max(record.largestClientFrame, message.length - 6);
      backend.write(data);
      if (record.fromClient - acked > 2 * MAX_FRAME) {
        acked = record.fromClient;
        const ack = Buffer.alloc(8);
        ack.writeBigUInt64BE(BigInt(acked));
        ws.send(frame(0x0007, ack, false));
      }
    });
    ws.on('close', () => backend.destroy());
  }
}

export async function startIapRelay(routes: Record<string, string> = {}): Promise<IapRelayStandIn> {
  const server = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    // IAP answers the handshake itself with 403 when the identity may not tunnel (`Bearer denied` here).
    verifyClient: (
      { origin, req }: { origin: string; req: IncomingMessage },
      done: (ok: boolean, code?: number, message?: string) => void,
    ) => {
      if (req.headers.authorization === 'Bearer denied') return done(false, 403, 'Forbidden');
      done(origin === 'bot:iap-tunneler' && req.headers['sec-websocket-protocol'] === SUBPROTOCOL, 400);
    },
  });
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  return new IapRelayStandIn(server, new Map(Object.entries(routes)));
}
