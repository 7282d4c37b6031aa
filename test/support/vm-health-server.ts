import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HealthServer {
  port: number;
  /** Requests seen so far (method and path), e.g. `GET /healthz`. */
  requests(): string[];
  stop(): Promise<void>;
}

/**
 * The runner's health endpoint as seen from the VM (`curl -fsS http://127.0.0.1:<port>/healthz` → `OK`,
 * as drone-runner-aws answers). The Docker stand-in binds no ports, so tests serve it themselves.
 */
export async function startHealthServer(): Promise<HealthServer> {
  const seen: string[] = [];
  const server = createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    if (request.method === 'GET' && request.url === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('404 page not found\n');
    }
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(0, '127.0.0.1', ok));
  return {
    port: (server.address() as AddressInfo).port,
    requests: () => [...seen],
    stop: () =>
      new Promise((ok, fail) => {
        server.closeAllConnections();
        server.close((error) => (error ? fail(error) : ok()));
      }),
  };
}
