/**
 * A GET with the request target written as given (`//`, `constructor`, `*`), which fetch would normalise
 * first: what a scanner or a hostile peer on the health port may send.
 */
import { request } from 'node:http';

export function getTarget(base: string, target: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, path: target, method: 'GET', timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer to GET ${target} within 5 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Request targets a URL parser refuses (`//`, `http://[::1`), and others that are no path of the bot's. */
export const ODD_TARGETS = ['//', '//healthz', '*', '/healthz/..%2f', '/%zz', 'http://[::1'];
