/**
 * A stand-in for the two Google APIs the bot calls, on a loopback port, speaking their REST shapes as
 * Google's generated clients send them in fallback (REST) mode, checked against real requests:
 *   GET /compute/v1/projects/{p}/zones/{z}/instances/{vm}?                                   instances.get
 *   GET /compute/v1/projects/{p}/zones/{z}/instances/{vm}/getGuestAttributes?queryPath=…    instances.getGuestAttributes
 *   GET /compute/v1/projects/{p}?                                                           projects.get
 *   POST /compute/v1/projects/{p}/zones/{z}/instances/{vm}/setMetadata                      instances.setMetadata
 *   GET /compute/v1/projects/{p}/zones/{z}/operations/{op}                                  zoneOperations.get
 *   GET /v1/projects/{p}/secrets/{s}/versions/{v}:access?$alt=json;enum-encoding=int        versions.access
 * and OS Login's two calls (fake-os-login.ts).
 * Like Google it refuses a query parameter the method does not take (400 INVALID_ARGUMENT). Errors come as
 * each API sends them: Compute `{"error":{"code","message","errors":[{reason}]}}`, Secret Manager
 * `{"error":{"code","message","status"}}`. It records every request (with the `x-goog-api-client` header
 * that names the generated client), enforces the guest-attributes limit of 10 queries a minute per VM
 * (429 beyond it), answers guest attributes only when `enable-guest-attributes` is TRUE on the instance or
 * its project, and fails or never answers on demand. Metadata carries a fingerprint of its items, and
 * setMetadata refuses a stale one (412 conditionNotMet) as Compute does; it answers with a RUNNING operation
 * that is DONE `operationMs` later. Point COMPUTE_API_URL and SECRET_MANAGER_API_URL at `url`.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeOsLogin } from './fake-os-login.js';

export interface FakeHostKey {
  type: string;
  base64: string;
}

export interface FakeVm {
  status?: string;
  /** The instance's metadata; `{ 'enable-guest-attributes': 'TRUE' }` when absent. */
  metadata?: Record<string, string>;
  internalIp?: string;
  /** No external address when absent. */
  externalIp?: string;
  /** Keys published under `hostkeys/`; none (a 404 for the query path) when absent or empty. */
  hostKeys?: FakeHostKey[];
  /** The guest agent publishes the keys only from this guest-attributes query on (1-based). */
  hostKeysFromQuery?: number;
  /** How long a setMetadata operation stays RUNNING. @defaultValue 300 ms */
  operationMs?: number;
}

export interface FakeSecretVersion {
  data: string | Buffer;
  state?: 'ENABLED' | 'DISABLED' | 'DESTROYED';
  /** `right` (default): the payload's CRC32C; `wrong`: another number; `none`: no checksum sent. */
  checksum?: 'right' | 'wrong' | 'none';
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The JSON body of a POST. */
  body: unknown;
  authorization: string | undefined;
  /** `x-goog-api-client`: `gax/… gapic/… rest/…` from a generated client in fallback mode. */
  apiClient: string | undefined;
  status: number;
}

export interface ForcedError {
  status: number;
  message?: string;
  /** Google's status name; derived from the HTTP status when absent. */
  googleStatus?: string;
  reason?: string;
  /** How many requests fail; every one when absent. */
  times?: number;
  /** Sent as `Retry-After` (seconds). */
  retryAfterSeconds?: number;
}

const STATUS_NAMES: Record<number, [string, string]> = {
  400: ['INVALID_ARGUMENT', 'invalid'],
  401: ['UNAUTHENTICATED', 'authError'],
  403: ['PERMISSION_DENIED', 'forbidden'],
  404: ['NOT_FOUND', 'notFound'],
  429: ['RESOURCE_EXHAUSTED', 'rateLimitExceeded'],
  412: ['FAILED_PRECONDITION', 'conditionNotMet'],
  500: ['INTERNAL', 'backendError'],
  503: ['UNAVAILABLE', 'backendError'],
};

/** CRC32C bit by bit: deliberately not the product's table-driven code, so each checks the other. */
function crc32cBitwise(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

const INSTANCE =
  /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/instances\/([^/]+)(\/getGuestAttributes|\/setMetadata)?$/;
const OPERATION = /^\/compute\/v1\/projects\/([^/]+)\/zones\/([^/]+)\/operations\/([^/]+)$/;
const PROJECT = /^\/compute\/v1\/projects\/([^/]+)$/;
const ACCESS = /^\/v1\/projects\/([^/]+)\/secrets\/([^/]+)\/versions\/([^/]+):access$/;
/** What Secret Manager's generated client adds to every REST call. */
const SECRET_MANAGER_ALT = 'json;enum-encoding=int';
const NOT_PUBLISHED = "The resource 'hostkeys/' of type 'Guest Attribute' was not found.";

type Answer = [number, unknown, Record<string, string>?];

/** A fingerprint of metadata items, changing whenever they do (Google's is opaque base64 too). */
function fingerprintOf(metadata: Record<string, string>): string {
  return createHash('sha256').update(JSON.stringify(metadata)).digest().subarray(0, 8).toString('base64');
}

interface FakeOperation {
  name: string;
  project: string;
  zone: string;
  target: string;
  doneAt: number;
}

export class FakeGoogle {
  readonly requests: RecordedRequest[] = [];
  readonly osLogin = new FakeOsLogin();
  private readonly vms = new Map<string, FakeVm>();
  private readonly secrets = new Map<string, FakeSecretVersion[]>();
  private readonly guestQueries = new Map<string, number[]>();
  private readonly guestAnswered = new Map<string, number>();
  private readonly forced: Array<{ match: string | RegExp; error: ForcedError; left: number }> = [];
  private readonly hung: Array<string | RegExp> = [];
  private readonly projects = new Map<string, Record<string, string>>();
  private readonly operations = new Map<string, FakeOperation>();

  constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly now: () => number,
  ) {}

  /** `project/zone/name`. */
  addVm(ref: string, vm: FakeVm = {}): this {
    this.vms.set(ref, { status: 'RUNNING', internalIp: '10.128.0.2', ...vm });
    return this;
  }

  /** Versions are numbered from 1 in the order given; `latest` is the highest. */
  addSecret(project: string, name: string, ...versions: Array<string | Buffer | FakeSecretVersion>): this {
    const list = versions.map((v) => (typeof v === 'string' || Buffer.isBuffer(v) ? { data: v } : v));
    this.secrets.set(`${project}/${name}`, list);
    return this;
  }

  /** The project's common instance metadata (empty for a project never set). */
  setProjectMetadata(project: string, metadata: Record<string, string>): this {
    this.projects.set(project, metadata);
    return this;
  }

  /** The instance's metadata as it is now (after any setMetadata). */
  metadataOf(ref: string): Record<string, string> {
    const vm = this.vms.get(ref);
    if (!vm) throw new Error(`no VM ${ref}`);
    return { ...this.instanceMetadata(vm) };
  }

  /** Another writer changes the instance's metadata (a person, Terraform): its fingerprint changes. */
  changeMetadata(ref: string, changes: Record<string, string>): this {
    const vm = this.vms.get(ref);
    if (!vm) throw new Error(`no VM ${ref}`);
    vm.metadata = { ...this.instanceMetadata(vm), ...changes };
    return this;
  }

  /** The project's common instance metadata. */
  projectMetadataOf(project: string): Record<string, string> {
    return { ...this.projects.get(project) };
  }

  /** Requests whose path contains `match` (or matches it) are taken and never answered. */
  hang(match: string | RegExp): this {
    this.hung.push(match);
    return this;
  }

  /** Requests whose path contains `match` (or matches it) fail with `error`. */
  fail(match: string | RegExp, error: ForcedError): this {
    this.forced.push({ match, error, left: error.times ?? Number.POSITIVE_INFINITY });
    return this;
  }

  /** Guest-attributes requests made for `project/zone/name`. */
  guestAttributeRequests(ref: string): RecordedRequest[] {
    const [project, zone, name] = ref.split('/');
    const path = `/compute/v1/projects/${project}/zones/${zone}/instances/${name}/getGuestAttributes`;
    return this.requests.filter((r) => r.path === path);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  handle(req: IncomingMessage, res: ServerResponse, body = ''): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    let parsed: unknown;
    try {
      parsed = body === '' ? undefined : JSON.parse(body);
    } catch {
      parsed = body;
    }
    const record: RecordedRequest = {
      method: req.method ?? 'GET',
      path: decodeURIComponent(url.pathname),
      query: Object.fromEntries(url.searchParams),
      body: parsed,
      authorization: req.headers.authorization,
      apiClient: req.headers['x-goog-api-client'] as string | undefined,
      status: 0,
    };
    this.requests.push(record);
    const matches = (m: string | RegExp) =>
      typeof m === 'string' ? record.path.includes(m) : m.test(record.path);
    if (this.hung.some(matches)) return;
    const [status, answer, headers] = this.answer(record, matches);
    record.status = status;
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    res.end(JSON.stringify(answer));
  }

  private answer(req: RecordedRequest, matches: (m: string | RegExp) => boolean): Answer {
    const compute = req.path.startsWith('/compute/');
    const forced = this.forced.find((f) => f.left > 0 && matches(f.match));
    if (forced) {
      forced.left--;
      const e = forced.error;
      const message = e.message ?? `Forced failure for ${req.path}`;
      const answer = googleError(compute, e.status, message, e.googleStatus, e.reason);
      if (e.retryAfterSeconds !== undefined) answer.push({ 'retry-after': String(e.retryAfterSeconds) });
      return answer;
    }
    const post = req.method === 'POST' && /\/setMetadata$|:importSshPublicKey$/.test(req.path);
    if (req.method !== 'GET' && !post) return googleError(compute, 405, `Method ${req.method} not allowed`);
    const unknown = this.unknownParameter(req, compute);
    if (unknown) return googleError(compute, 400, unknown);
    const osLogin = this.osLogin.answer(req, (code, message) => googleError(false, code, message));
    if (osLogin) return osLogin;
    const project = PROJECT.exec(req.path);
    if (project) return this.project(project[1] as string);
    const instance = INSTANCE.exec(req.path);
    if (instance) {
      const [, project, zone, name, guest] = instance as unknown as [
        string,
        string,
        string,
        string,
        string | undefined,
      ];
      if (guest === '/setMetadata') return this.setMetadata(project, zone, name, req.body);
      return guest
        ? this.guestAttributes(project, zone, name, req.query.queryPath)
        : this.instance(project, zone, name);
    }
    const operation = OPERATION.exec(req.path);
    if (operation)
      return this.operation(operation[1] as string, operation[2] as string, operation[3] as string);
    const access = ACCESS.exec(req.path);
    if (access) {
      const [, project, secret, version] = access as unknown as [string, string, string, string];
      return this.access(project, secret, version);
    }
    return googleError(compute, 404, `No route for ${req.path}`);
  }

  /** Google refuses parameters a method does not take; the generated clients send exactly these. */
  private unknownParameter(req: RecordedRequest, compute: boolean): string | undefined {
    const osLogin = req.path.startsWith('/v1/users/');
    const allowed = compute
      ? req.path.endsWith('/getGuestAttributes')
        ? ['queryPath']
        : []
      : osLogin
        ? ['$alt', 'projectId']
        : ['$alt'];
    const extra = Object.keys(req.query).find((name) => !allowed.includes(name));
    if (extra !== undefined)
      return `Invalid JSON payload received. Unknown name "${extra}": Cannot bind query parameter.`;
    if (!compute && req.query.$alt !== SECRET_MANAGER_ALT) {
      return `Invalid value for $alt: ${req.query.$alt ?? '(none)'}; the client sends ${SECRET_MANAGER_ALT}.`;
    }
    return undefined;
  }

  private project(name: string): Answer {
    const items = Object.entries(this.projects.get(name) ?? {}).map(([key, value]) => ({ key, value }));
    return [
      200,
      {
        kind: 'compute#project',
        id: '771032850711',
        name,
        commonInstanceMetadata: {
          kind: 'compute#metadata',
          fingerprint: fingerprintOf(this.projects.get(name) ?? {}),
          items,
        },
        selfLink: `https://www.googleapis.com/compute/v1/projects/${name}`,
      },
    ];
  }

  private instanceMetadata(vm: FakeVm): Record<string, string> {
    return vm.metadata ?? { 'enable-guest-attributes': 'TRUE' };
  }

  /** gcloud's rule: the instance's `enable-guest-attributes`, else the project's. */
  private guestAttributesOn(project: string, vm: FakeVm): boolean {
    const own = this.instanceMetadata(vm)['enable-guest-attributes'];
    const value = own ?? this.projects.get(project)?.['enable-guest-attributes'];
    return /^(1|t|true)$/i.test(value ?? '');
  }

  private instance(project: string, zone: string, name: string): Answer {
    const vm = this.vms.get(`${project}/${zone}/${name}`);
    const self = `https://www.googleapis.com/compute/v1/projects/${project}/zones/${zone}/instances/${name}`;
    if (!vm) return notFound(`projects/${project}/zones/${zone}/instances/${name}`);
    const accessConfigs = vm.externalIp
      ? [{ kind: 'compute#accessConfig', type: 'ONE_TO_ONE_NAT', name: 'External NAT', natIP: vm.externalIp }]
      : [];
    return [
      200,
      {
        kind: 'compute#instance',
        id: '4125031259436345017',
        name,
        zone: `https://www.googleapis.com/compute/v1/projects/${project}/zones/${zone}`,
        status: vm.status,
        metadata: {
          kind: 'compute#metadata',
          fingerprint: fingerprintOf(this.instanceMetadata(vm)),
          items: Object.entries(this.instanceMetadata(vm)).map(([key, value]) => ({ key, value })),
        },
        selfLink: self,
        networkInterfaces: [
          { kind: 'compute#networkInterface', name: 'nic0', networkIP: vm.internalIp, accessConfigs },
        ],
      },
    ];
  }

  /** Replaces the instance's metadata, as Compute does, when the fingerprint sent is the current one. */
  private setMetadata(project: string, zone: string, name: string, body: unknown): Answer {
    const ref = `${project}/${zone}/${name}`;
    const vm = this.vms.get(ref);
    if (!vm) return notFound(`projects/${project}/zones/${zone}/instances/${name}`);
    const sent = (body ?? {}) as { fingerprint?: string; items?: { key?: string; value?: string }[] };
    if (sent.fingerprint !== fingerprintOf(this.instanceMetadata(vm))) {
      return googleError(
        true,
        412,
        'Supplied fingerprint does not match current metadata fingerprint.',
        undefined,
        'conditionNotMet',
      );
    }
    vm.metadata = Object.fromEntries((sent.items ?? []).map((item) => [item.key ?? '', item.value ?? '']));
    const operation: FakeOperation = {
      name: `operation-${this.now()}-${this.operations.size + 1}`,
      project,
      zone,
      target: `https://www.googleapis.com/compute/v1/projects/${project}/zones/${zone}/instances/${name}`,
      doneAt: this.now() + (vm.operationMs ?? 300),
    };
    this.operations.set(`${project}/${zone}/${operation.name}`, operation);
    return [200, this.operationBody(operation)];
  }

  private operation(project: string, zone: string, name: string): Answer {
    const operation = this.operations.get(`${project}/${zone}/${name}`);
    if (!operation) return notFound(`projects/${project}/zones/${zone}/operations/${name}`);
    return [200, this.operationBody(operation)];
  }

  private operationBody(operation: FakeOperation) {
    const done = this.now() >= operation.doneAt;
    const zone = `https://www.googleapis.com/compute/v1/projects/${operation.project}/zones/${operation.zone}`;
    return {
      kind: 'compute#operation',
      id: '7219335113212374529',
      name: operation.name,
      zone,
      operationType: 'setMetadata',
      targetLink: operation.target,
      status: done ? 'DONE' : 'RUNNING',
      progress: done ? 100 : 0,
      selfLink: `${zone}/operations/${operation.name}`,
    };
  }

  private guestAttributes(
    project: string,
    zone: string,
    name: string,
    queryPath: string | undefined,
  ): Answer {
    const ref = `${project}/${zone}/${name}`;
    const vm = this.vms.get(ref);
    if (!vm) return notFound(`projects/${project}/zones/${zone}/instances/${name}`);
    const now = this.now();
    const recent = (this.guestQueries.get(ref) ?? []).filter((at) => now - at < 60_000);
    if (recent.length >= 10) {
      return googleError(
        true,
        429,
        `Quota exceeded for quota metric 'Guest attribute queries' and limit 'Queries per minute per VM' of instance '${name}'.`,
      );
    }
    recent.push(now);
    this.guestQueries.set(ref, recent);
    const asked = (this.guestAnswered.get(ref) ?? 0) + 1;
    this.guestAnswered.set(ref, asked);
    const on = this.guestAttributesOn(project, vm);
    const published = on && asked >= (vm.hostKeysFromQuery ?? 1) ? (vm.hostKeys ?? []) : [];
    // Google answers the same for attributes that are off and for keys the guest agent has not published.
    if (queryPath !== 'hostkeys/' || published.length === 0) return googleError(true, 404, NOT_PUBLISHED);
    const items = published.map((k) => ({ namespace: 'hostkeys', key: k.type, value: `${k.base64}\n` }));
    return [
      200,
      {
        kind: 'compute#guestAttributes',
        queryPath,
        queryValue: { items },
        selfLink: `https://www.googleapis.com/compute/v1/projects/${ref}/getGuestAttributes`,
      },
    ];
  }

  private access(project: string, secret: string, version: string): Answer {
    const versions = this.secrets.get(`${project}/${secret}`);
    const resource = `projects/${project}/secrets/${secret}/versions/${version}`;
    if (!versions || versions.length === 0)
      return googleError(
        false,
        404,
        `Secret [projects/${project}/secrets/${secret}] not found or has no versions.`,
      );
    const number = version === 'latest' ? versions.length : Number(version);
    const found = Number.isInteger(number) ? versions[number - 1] : undefined;
    if (!found) return googleError(false, 404, `Secret Version [${resource}] not found.`);
    const state = found.state ?? 'ENABLED';
    if (state !== 'ENABLED') {
      return googleError(
        false,
        400,
        `Secret Version [projects/${project}/secrets/${secret}/versions/${number}] is in ${state} state.`,
        'FAILED_PRECONDITION',
      );
    }
    const data = Buffer.isBuffer(found.data) ? found.data : Buffer.from(found.data, 'utf8');
    const crc = crc32cBitwise(data);
    const payload: Record<string, string> = { data: data.toString('base64') };
    if (found.checksum !== 'none')
      payload.dataCrc32c = String(found.checksum === 'wrong' ? (crc + 1) % 2 ** 32 : crc);
    return [200, { name: `projects/${project}/secrets/${secret}/versions/${number}`, payload }];
  }
}

/**
 * An error as each API sends it: Compute (an older API) with `errors[].reason` and no status name, Secret
 * Manager with the status name and no `errors`. A status or reason given explicitly is always sent.
 */
function googleError(
  compute: boolean,
  code: number,
  message: string,
  status?: string,
  reason?: string,
): Answer {
  const [defaultStatus, defaultReason] = STATUS_NAMES[code] ?? ['UNKNOWN', 'unknown'];
  const error: Record<string, unknown> = { code, message };
  if (compute || reason !== undefined) {
    error.errors = [{ message, domain: 'global', reason: reason ?? defaultReason }];
  }
  if (!compute || status !== undefined) error.status = status ?? defaultStatus;
  return [code, { error }];
}

/** Compute's answer for a resource that does not exist. */
function notFound(resource: string): Answer {
  return googleError(true, 404, `The resource '${resource}' was not found`);
}

export async function startFakeGoogle(options: { now?: () => number } = {}): Promise<FakeGoogle> {
  let fake: FakeGoogle | undefined;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => fake?.handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake = new FakeGoogle(server, `http://127.0.0.1:${port}`, options.now ?? Date.now);
  return fake;
}

/** A clock whose sleeps pass at once (moving its time on), shared by the product and the fake's rate limit. */
export function manualClock(start = Date.UTC(2025, 0, 1)) {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance(ms: number) {
      now += ms;
    },
  };
}

/** A fresh ed25519 public key as guest attributes publish it (type, base64 blob). */
export function ed25519HostKey(): FakeHostKey {
  const { publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return {
    type: 'ssh-ed25519',
    base64: Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]).toString('base64'),
  };
}
