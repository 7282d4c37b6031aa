/**
 * Slack's two-step file upload, as the fake Web API answers it: `files.getUploadURLExternal` hands out an id and
 * a URL (on the fake itself), the bytes are POSTed there, `files.completeUploadExternal` shares the file in a
 * channel. https://docs.slack.dev/messaging/working-with-files#uploading_files
 */
import type { ServerResponse } from 'node:http';

type Json = Record<string, unknown>;

/** A file shared in a channel: what a person sees there. */
export interface FakeFile {
  id: string;
  channel: string;
  threadTs: string | undefined;
  filename: string;
  title: string;
  /** The bytes as uploaded, read as UTF-8. */
  content: string;
  comment: string | undefined;
}

interface Pending {
  filename: string;
  length: number;
  bytes: Buffer | undefined;
}

export class FakeSlackFiles {
  readonly shared: FakeFile[] = [];
  private readonly pending = new Map<string, Pending>();
  private nextId = 1;

  /** `files.getUploadURLExternal`: `filename` and `length` (bytes) are required. */
  uploadUrl(args: Json, uploadBase: string): Json {
    const length = Number(args.length);
    if (typeof args.filename !== 'string' || args.filename === '' || args.length === undefined)
      return { ok: false, error: 'invalid_arguments' };
    if (!Number.isInteger(length) || length < 1) return { ok: false, error: 'invalid_arguments' };
    const id = `F${String(this.nextId++).padStart(8, '0')}`;
    this.pending.set(id, { filename: args.filename, length, bytes: undefined });
    return { ok: true, upload_url: `${uploadBase}${id}`, file_id: id };
  }

  /** The POST of the bytes: raw, or as the one file of a multipart form (what `files.uploadV2` sends). */
  async receive(
    id: string,
    body: Buffer,
    contentType: string | undefined,
    res: ServerResponse,
  ): Promise<void> {
    const upload = this.pending.get(id);
    if (upload === undefined) {
      res.writeHead(404).end('unknown upload');
      return;
    }
    const bytes = contentType?.includes('multipart/form-data') ? await formFile(body, contentType) : body;
    if (bytes === undefined || bytes.length !== upload.length) {
      res.writeHead(400).end(`expected ${upload.length} bytes, got ${bytes?.length ?? 'no file'}`);
      return;
    }
    upload.bytes = bytes;
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${bytes.length}`);
  }

  /** `files.completeUploadExternal`: `files` is `[{id, title}]`; shares them in `channel_id` when given. */
  complete(args: Json): Json {
    const files = Array.isArray(args.files) ? (args.files as Json[]) : undefined;
    if (files === undefined || files.length === 0) return { ok: false, error: 'invalid_arguments' };
    const channel = typeof args.channel_id === 'string' ? args.channel_id : undefined;
    if (channel !== undefined && !/^[CGD][A-Z0-9]+$/.test(channel))
      return { ok: false, error: 'channel_not_found' };
    const found = files.map((f) => ({
      id: String(f.id),
      title: f.title,
      upload: this.pending.get(String(f.id)),
    }));
    if (found.some((f) => f.upload === undefined)) return { ok: false, error: 'file_not_found' };
    // Slack has no file to share until its bytes arrived (this fake's name for that refusal).
    if (found.some((f) => f.upload?.bytes === undefined))
      return { ok: false, error: 'file_upload_incomplete' };
    for (const { id, title, upload } of found) {
      const { filename, bytes } = upload as Pending & { bytes: Buffer };
      this.pending.delete(id);
      if (channel === undefined) continue;
      this.shared.push({
        id,
        channel,
        threadTs: typeof args.thread_ts === 'string' ? args.thread_ts : undefined,
        filename,
        title: typeof title === 'string' ? title : filename,
        content: bytes.toString('utf8'),
        comment: typeof args.initial_comment === 'string' ? args.initial_comment : undefined,
      });
    }
    return { ok: true, files: found.map((f) => ({ id: f.id, title: f.title ?? '' })) };
  }
}

/** The one file part of a multipart body, parsed as fetch parses one. */
async function formFile(body: Buffer, contentType: string): Promise<Buffer | undefined> {
  const form = await new Response(body, { headers: { 'content-type': contentType } }).formData();
  for (const [, value] of form) if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
  return undefined;
}
