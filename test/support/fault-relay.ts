/**
 * A TCP relay in front of a test VM's sshd: the network between the bot and the VM. It can drop every
 * open connection (a network blip, a VM reboot) and stop answering for a while (the VM unreachable:
 * connections are refused, as by a VM that is booting).
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

export interface FaultRelay {
  port: number;
  /** Connections accepted so far (attempts while down are not accepted). */
  readonly accepted: number;
  /** Attempts refused while down. */
  readonly refused: number;
  /** Drops every open connection, both ways. */
  cut(): number;
  /** Drops every connection and refuses new ones until `up()`. */
  down(): void;
  up(): void;
  readonly isDown: boolean;
  close(): Promise<void>;
}

export async function startRelay(targetPort: number, targetHost = '127.0.0.1'): Promise<FaultRelay> {
  const open = new Set<Socket>();
  let accepted = 0;
  let refused = 0;
  let isDown = false;
  const server: Server = createServer((inbound) => {
    inbound.on('error', () => undefined);
    if (isDown) {
      // A VM that is not there: the connection is reset before any byte of the SSH banner.
      refused += 1;
      inbound.resetAndDestroy();
      return;
    }
    accepted += 1;
    const outbound = tcpConnect(targetPort, targetHost);
    outbound.on('error', () => inbound.destroy());
    inbound.on('error', () => outbound.destroy());
    open.add(inbound).add(outbound);
    for (const socket of [inbound, outbound]) socket.once('close', () => open.delete(socket));
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  const port = (server.address() as { port: number }).port;

  function cut(): number {
    const count = open.size / 2;
    for (const socket of open) socket.resetAndDestroy();
    open.clear();
    return count;
  }

  return {
    port,
    get accepted() {
      return accepted;
    },
    get refused() {
      return refused;
    },
    cut,
    down() {
      isDown = true;
      cut();
    },
    up() {
      isDown = false;
    },
    get isDown() {
      return isDown;
    },
    async close() {
      cut();
      await new Promise((ok) => server.close(ok));
    },
  };
}
