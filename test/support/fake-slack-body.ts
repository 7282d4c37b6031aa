/** Request bodies as the fake Web API reads them. */
import type { IncomingMessage } from 'node:http';

type Json = Record<string, unknown>;

export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** The Web API client sends form-encoded bodies whose object values are JSON strings; JSON bodies also work. */
export function parseArgs(raw: string, contentType: string | undefined): Json {
  if (raw === '') return {};
  if (contentType?.includes('application/json')) return JSON.parse(raw) as Json;
  const args: Json = {};
  for (const [key, value] of new URLSearchParams(raw)) {
    args[key] = /^[[{]/.test(value) ? safeJson(value) : value;
  }
  return args;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
