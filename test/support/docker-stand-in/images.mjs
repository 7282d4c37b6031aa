/**
 * Images and the registry they are pulled from. An image's id is the hash of its reference and its content,
 * so a test that publishes new content under the same tag (`registry.json`) makes `pull` fetch a new id.
 */
import { createHash } from 'node:crypto';
import { DaemonError } from './errors.mjs';
import { readRegistry } from './state.mjs';

const sha = (text) => createHash('sha256').update(text).digest('hex');

/** `drone/drone-runner-aws` → `drone/drone-runner-aws:latest`; a digest or a tag is kept as given. */
export function normalize(ref) {
  if (ref.includes('@')) return ref;
  const lastPart = ref.slice(ref.lastIndexOf('/') + 1);
  return lastPart.includes(':') ? ref : `${ref}:latest`;
}

const repository = (ref) => normalize(ref).replace(/(@.*|:[^:/]*)$/, '');
const tag = (ref) => normalize(ref).slice(repository(ref).length + 1);

/** The images whose behaviour the stand-in knows exist in the registry unless a test removes them. */
const KNOWN = [/drone-runner-aws/, /delegate/];

/** What the registry holds for `ref`: its content, or undefined when it has no such image. */
function published(env, ref) {
  const registry = Object.fromEntries(Object.entries(readRegistry(env)).map(([k, v]) => [normalize(k), v]));
  const key = normalize(ref);
  if (Object.hasOwn(registry, key)) return registry[key] ?? undefined;
  return KNOWN.some((re) => re.test(key)) ? 'v1' : undefined;
}

function manifestFor(ref, content) {
  const id = `sha256:${sha(`${normalize(ref)}\n${content}`)}`;
  const layers = [0, 1, 2].map((i) => sha(`${id}/${i}`).slice(0, 12));
  return {
    id,
    layers,
    digest: `sha256:${sha(`manifest ${id}`)}`,
    sizes: layers.map((_, i) => 3_145_728 * (i + 1)),
  };
}

function pullError(env, ref) {
  const registry = readRegistry(env);
  const known =
    Object.keys(registry).some((k) => repository(k) === repository(ref)) || KNOWN.some((re) => re.test(ref));
  if (known) return `manifest for ${normalize(ref)} not found: manifest unknown: manifest unknown`;
  return `pull access denied for ${repository(ref)}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`;
}

const mb = (bytes) => `${(bytes / 1e6).toFixed(3).replace(/\.?0+$/, '')}MB`;

/**
 * Pulls `ref` into `state` and returns the lines docker prints. Like the real CLI on a pipe (no TTY),
 * per-byte progress (`Downloading [==>  ] 1MB/3MB`) is shown only when output goes to a terminal.
 */
export function pull(env, state, ref, { tty = false } = {}) {
  const content = published(env, ref);
  if (content === undefined) throw new DaemonError(pullError(env, ref));
  const manifest = manifestFor(ref, content);
  const key = normalize(ref);
  const lines = [`${tag(ref)}: Pulling from ${repository(ref)}`];
  if (state.images[key]?.id === manifest.id) {
    lines.push(`Digest: ${manifest.digest}`, `Status: Image is up to date for ${key}`, key);
    return lines;
  }
  for (const layer of manifest.layers) lines.push(`${layer}: Pulling fs layer`);
  for (const [i, layer] of manifest.layers.entries()) {
    const size = manifest.sizes[i];
    if (tty) {
      lines.push(
        `${layer}: Downloading [=========>                                         ]  ${mb(size / 5)}/${mb(size)}`,
      );
      lines.push(
        `${layer}: Downloading [==================================================>]  ${mb(size)}/${mb(size)}`,
      );
    }
    lines.push(`${layer}: Verifying Checksum`, `${layer}: Download complete`);
  }
  for (const layer of manifest.layers) lines.push(`${layer}: Pull complete`);
  lines.push(`Digest: ${manifest.digest}`, `Status: Downloaded newer image for ${key}`, key);
  state.images[key] = {
    id: manifest.id,
    ref: key,
    digest: manifest.digest,
    layers: manifest.layers,
    size: manifest.sizes.reduce((a, b) => a + b, 0),
    created: new Date().toISOString(),
  };
  return lines;
}

export function localImage(state, ref) {
  if (/^sha256:[0-9a-f]{64}$/.test(ref) || /^[0-9a-f]{12,64}$/.test(ref)) {
    const wanted = ref.replace(/^sha256:/, '');
    return Object.values(state.images).find((img) => img.id.slice(7).startsWith(wanted));
  }
  return state.images[normalize(ref)];
}

export const imageKind = (ref) =>
  /drone-runner-aws/.test(ref) ? 'runner' : /delegate/.test(ref) ? 'delegate' : 'other';

/** `docker image inspect` of one image. */
export function imageView(state, image) {
  const tags = Object.values(state.images)
    .filter((img) => img.id === image.id)
    .map((img) => img.ref);
  return {
    Id: image.id,
    RepoTags: tags,
    RepoDigests: [`${repository(image.ref)}@${image.digest}`],
    Created: image.created,
    Size: image.size,
    Architecture: 'amd64',
    Os: 'linux',
    Config: {
      Entrypoint: imageKind(image.ref) === 'runner' ? ['/bin/drone-runner-aws'] : null,
      Cmd: imageKind(image.ref) === 'runner' ? null : ['/bin/sh', '-c', './start.sh'],
      WorkingDir: '',
    },
    RootFS: { Type: 'layers', Layers: image.layers.map((l) => `sha256:${sha(l)}`) },
  };
}
