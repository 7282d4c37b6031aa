/**
 * A stand-in for Slack's Socket Mode on loopback, beside the fake Web API: `apps.connections.open` (checked
 * against the app token) hands out a one-time `ws://127.0.0.1:<port>/link?ticket=…` URL; the socket gets
 * `hello`, then the envelopes a test sends (`slash_commands`, `interactive`), each of which must be acked with
 * its `envelope_id` within 3 s as Slack requires; `refresh()` sends `disconnect`/`refresh_requested` (Slack
 * does every few hours) and `drop()` cuts the TCP connection with no close frame.
 * https://docs.slack.dev/apis/events-api/using-socket-mode
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { FakeSlack } from './fake-slack.js';
import { type ButtonClick, blockActionPayload, type CommandInput, commandBody } from './slack-request.js';

type Json = Record<string, unknown>;

/** Slack's deadline for an ack. */
const ACK_MS = 3000;

export interface Ack {
  /** What the app sent back with the ack (a slash command's ephemeral answer, for instance). */
  payload: Json | undefined;
  /** From sending the envelope to the ack arriving. */
  ms: number;
}

export class FakeSocketMode {
  /** apps.connections.open calls, refused ones included. */
  opens = 0;
  /** Sockets ever opened. */
  connections = 0;
  /** When set, apps.connections.open answers `{ok: false, error: refuse}`. */
  refuse: string | undefined;
  private server: WebSocketServer | undefined;
  private readonly sockets = new Set<WebSocket>();
  private readonly tickets = new Set<string>();
  private readonly waiting = new Map<string, (payload: Json | undefined) => void>();

  constructor(
    private readonly slack: FakeSlack,
    private readonly appToken: string,
  ) {}

  async start(): Promise<this> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    this.server = server;
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    server.on('connection', (socket, req) => this.accept(socket, req));
    this.slack.extraMethods.set('apps.connections.open', (_args, authorization) => this.open(authorization));
    return this;
  }

  async close(): Promise<void> {
    this.slack.extraMethods.delete('apps.connections.open');
    for (const socket of this.sockets) socket.terminate();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Sockets open now (Slack said hello on each). */
  get openSockets(): number {
    return this.sockets.size;
  }

  /** `/gitspaces <text>` over the socket; resolves with the ack, rejects when none comes within 3 s. */
  command(input: CommandInput): Promise<Ack> {
    const payload = Object.fromEntries(new URLSearchParams(commandBody(input)));
    return this.send('slash_commands', payload, true);
  }

  /** A button click (block_actions) over the socket. */
  click(click: ButtonClick): Promise<Ack> {
    return this.send('interactive', blockActionPayload(click) as Json, false);
  }

  /** Slack's periodic `disconnect` (`refresh_requested`): the app should connect again at once. */
  refresh(): void {
    for (const socket of this.sockets)
      socket.send(
        JSON.stringify({ type: 'disconnect', reason: 'refresh_requested', debug_info: { host: 'fake' } }),
      );
  }

  /** The connection is cut (no close frame): the app should notice and connect again. */
  drop(): void {
    for (const socket of this.sockets) socket.terminate();
  }

  /** Resolves once `n` sockets have ever been opened and one is open now. */
  async waitForConnections(n: number, timeoutMs = 20_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.connections < n || this.sockets.size === 0) {
      if (Date.now() > end)
        throw new Error(
          `timed out waiting for socket ${n} (${this.connections} opened, ${this.sockets.size} open)`,
        );
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private open(authorization: string): Json {
    this.opens += 1;
    if (authorization === '') return { ok: false, error: 'not_authed' };
    if (this.refuse !== undefined) return { ok: false, error: this.refuse };
    const token = authorization.replace(/^Bearer /, '');
    if (token.startsWith('xoxb-') || token.startsWith('xoxp-'))
      return { ok: false, error: 'not_allowed_token_type' };
    if (token !== this.appToken) return { ok: false, error: 'invalid_auth' };
    const ticket = randomUUID();
    this.tickets.add(ticket);
    const { port } = (this.server as WebSocketServer).address() as AddressInfo;
    return { ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=${ticket}&app_id=A0GITSPACES` };
  }

  private accept(socket: WebSocket, req: IncomingMessage): void {
    const ticket = new URL(req.url ?? '/', 'http://localhost').searchParams.get('ticket') ?? '';
    // A URL works once, as Slack's do.
    if (!this.tickets.delete(ticket)) return void socket.close(1008, 'invalid ticket');
    this.connections += 1;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as { envelope_id?: string; payload?: Json };
      const resolve = message.envelope_id === undefined ? undefined : this.waiting.get(message.envelope_id);
      resolve?.(message.payload);
    });
    socket.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.sockets.size,
        debug_info: { host: 'applink-fake', build_number: 1, approximate_connection_time: 18060 },
        connection_info: { app_id: 'A0GITSPACES' },
      }),
    );
  }

  private send(type: string, payload: Json, acceptsResponsePayload: boolean): Promise<Ack> {
    const socket = [...this.sockets].at(-1);
    if (socket === undefined) return Promise.reject(new Error(`no socket open to send ${type}`));
    const envelopeId = randomUUID();
    const sent = Date.now();
    return new Promise<Ack>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(envelopeId);
        reject(new Error(`${type} envelope ${envelopeId} was not acked within ${ACK_MS} ms`));
      }, ACK_MS);
      this.waiting.set(envelopeId, (ackPayload) => {
        clearTimeout(timer);
        this.waiting.delete(envelopeId);
        resolve({ payload: ackPayload, ms: Date.now() - sent });
      });
      socket.send(
        JSON.stringify({
          envelope_id: envelopeId,
          payload,
          type,
          accepts_response_payload: acceptsResponsePayload,
          retry_attempt: 0,
          retry_reason: '',
        }),
      );
    });
  }
}

export async function startFakeSocketMode(slack: FakeSlack, appToken: string): Promise<FakeSocketMode> {
  return new FakeSocketMode(slack, appToken).start();
}
