import { mkdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const LOCK = join(tmpdir(), 'gitspaces-bot-test-runner-port-3000.lock');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The runner answers on the VM at 127.0.0.1:3000 (`-p 3000:3000`). Tests that run the product exactly as
 * configured (the CLI) need that port: one test file holds it at a time, through a lock directory.
 * This takes the right without listening on it (a real engine's docker-proxy will).
 */
export async function holdRunnerPortLock(): Promise<{ release(): Promise<void> }> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock left by a killed test process is cleared after two minutes.
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 120_000) rmSync(LOCK, { recursive: true, force: true });
      } catch {}
      await sleep(200);
    }
  }
  // Held locks stay fresh, so only a lock whose holder died looks stale.
  const fresh = setInterval(() => {
    try {
      utimesSync(LOCK, new Date(), new Date());
    } catch {}
  }, 20_000);
  fresh.unref();
  return {
    release: async () => {
      clearInterval(fresh);
      rmSync(LOCK, { recursive: true, force: true });
    },
  };
}

/** Holds 127.0.0.1:3000 with a server that answers `/healthz` as the runner does. */
export async function holdRunnerPort(): Promise<{ release(): Promise<void> }> {
  const lock = await holdRunnerPortLock();
  const server: Server = createServer((req, res) => {
    if (req.url === '/healthz') res.writeHead(200).end('OK');
    else res.writeHead(404).end('404 page not found\n');
  });
  try {
    await new Promise<void>((ok, fail) => server.once('error', fail).listen(3000, '127.0.0.1', ok));
  } catch (error) {
    await lock.release();
    throw new Error(
      `127.0.0.1:3000 is taken by another process; the CLI tests need it free (${String(error)})`,
    );
  }
  return {
    release: async () => {
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await lock.release();
    },
  };
}
