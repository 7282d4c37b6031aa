/**
 * The egress proxy the environment names, read as curl and Google's clients read it: HTTPS_PROXY for https
 * and wss URLs (else HTTP_PROXY), HTTP_PROXY for http and ws ones, lower-case names first, NO_PROXY for the
 * hosts reached directly (`host`, `.domain`, `*.domain`, `host:port`, or `*` for all). Google's clients follow
 * these by themselves (gaxios); Node's fetch, Slack's Web API client, Socket Mode's WebSocket and the IAP
 * tunnel's do not, so each is handed what this returns. Without a proxy set, undefined: nothing changes.
 */
import type { Agent } from 'node:http';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { type Dispatcher, EnvHttpProxyAgent, fetch as undiciFetch } from 'undici';

export interface EgressProxy {
  /** For undici's clients (Socket Mode's WebSocket). */
  dispatcher: Dispatcher;
  /** `fetch` through the proxy, for Slack's Web API client and the bot's own calls. */
  fetch: typeof fetch;
  /** An agent for `ws` (the IAP tunnel) to `url`; undefined where NO_PROXY sends it directly. */
  agentFor(url: string): Agent | undefined;
}

type Env = Record<string, string | undefined>;

const variable = (env: Env, name: string) => env[name.toLowerCase()] || env[name] || undefined;

/** NO_PROXY's entries, as undici reads them: a host (its subdomains too), with a port when one is given. */
function bypasses(noProxy: string): (url: URL) => boolean {
  const entries = noProxy
    .split(/[,\s]/)
    .filter(Boolean)
    .map((entry) => {
      const [, host = entry, port] = /^(.+):(\d+)$/.exec(entry) ?? [];
      return { host: host.replace(/^\*?\./, '').toLowerCase(), port: port === undefined ? 0 : Number(port) };
    });
  return (url) => {
    if (noProxy.trim() === '*') return true;
    const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const secure = url.protocol === 'https:' || url.protocol === 'wss:';
    const port = Number(url.port) || (secure ? 443 : 80);
    return entries.some(
      (entry) =>
        (entry.port === 0 || entry.port === port) && (host === entry.host || host.endsWith(`.${entry.host}`)),
    );
  };
}

/** One per environment: its dispatcher and agents keep their connections to the proxy. */
const made = new WeakMap<Env, EgressProxy | null>();

export function egressProxy(env: Env): EgressProxy | undefined {
  let proxy = made.get(env);
  if (proxy === undefined) {
    proxy = build(env) ?? null;
    made.set(env, proxy);
  }
  return proxy ?? undefined;
}

function build(env: Env): EgressProxy | undefined {
  const httpProxy = variable(env, 'HTTP_PROXY');
  const httpsProxy = variable(env, 'HTTPS_PROXY') ?? httpProxy;
  if (httpsProxy === undefined) return undefined; // neither is set
  const noProxy = variable(env, 'NO_PROXY') ?? '';
  // Every value given ('' for none): undici must not fall back to this process's own environment.
  const dispatcher = new EnvHttpProxyAgent({
    httpProxy: httpProxy ?? '',
    httpsProxy,
    noProxy,
  });
  const direct = bypasses(noProxy);
  const agents = new Map<string, Agent>();
  return {
    dispatcher,
    fetch: ((input, init) =>
      undiciFetch(input as never, { ...(init as object), dispatcher })) as typeof fetch,
    agentFor(url) {
      const target = new URL(url);
      const secure = target.protocol === 'https:' || target.protocol === 'wss:';
      const proxy = secure ? httpsProxy : httpProxy;
      if (proxy === undefined || direct(target)) return undefined;
      let agent = agents.get(proxy);
      if (agent === undefined) {
        agent = new HttpsProxyAgent(proxy);
        agents.set(proxy, agent);
      }
      return agent;
    },
  };
}
