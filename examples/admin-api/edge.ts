/**
 * The HTTP edge: what a request may carry before any of it reaches the library or the database. A body
 * is JSON (`application/json`, UTF-8, at most `maxBytes`), an object, nested at most `MAX_BODY_DEPTH`
 * levels; no string in it — keys included — and no path parameter, query value or header read holds
 * U+0000 or a lone surrogate: PostgreSQL's jsonb cannot store either, and no id, name or email needs them.
 * Every refusal is an `EdgeError`: a 4xx with a stable code and the path of the offending value.
 */
import type { IncomingMessage } from 'node:http';
import type { AdminErrorCode } from 'org-policy';

export const MAX_BODY_BYTES = 1 << 20;
/** Past this much, an oversized body is no longer drained for a polite 413: the connection is cut. */
const MAX_DRAINED_BYTES = 16 * MAX_BODY_BYTES;
/** No Admin API body nests deeper than a handful of levels; this leaves room and bounds the walk. */
export const MAX_BODY_DEPTH = 32;

export type Path = readonly (string | number)[];

/** A request refused at the edge; `auditCode` is the library's word for it in the refusal's audit event. */
export class EdgeError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly path: Path = [],
    readonly auditCode: AdminErrorCode = 'invalid_value',
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }

  get body() {
    return { error: { class: this.status === 401 ? 'unauthenticated' : 'validation', code: this.code, path: this.path, message: this.message } };
  }
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why a string may not pass the edge, or `null`. */
export function unsafeString(text: string): { code: 'nul_character' | 'lone_surrogate'; what: string } | null {
  if (text.includes('\u0000')) return { code: 'nul_character', what: 'U+0000 (NUL)' };
  if (LONE_SURROGATE.test(text)) return { code: 'lone_surrogate', what: 'a lone surrogate (not Unicode text)' };
  return null;
}

export function describePath(where: string, path: Path): string {
  return path.reduce<string>((text, part) => (typeof part === 'number' ? `${text}[${part}]` : text === '' ? part : `${text}.${part}`), where);
}

/** Refuses a string read from the request (a path parameter, a query value, a header). */
export function checkString(text: string, where: string, path: Path): void {
  const unsafe = unsafeString(text);
  if (unsafe !== null) throw new EdgeError(400, unsafe.code, `${describePath(where, path)} contains ${unsafe.what}`, path, unsafe.code === 'nul_character' ? 'control_character' : 'invalid_value');
}

/** Walks a parsed body without recursion: every key and string checked, the depth bounded. */
export function checkBody(body: unknown): void {
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value: body, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      checkString(value, 'body', path);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= MAX_BODY_DEPTH) throw new EdgeError(400, 'too_deep', `${describePath('body', path)} nests deeper than ${MAX_BODY_DEPTH} levels`, path, 'too_deep');
    if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      const unsafe = unsafeString(key);
      if (unsafe !== null) throw new EdgeError(400, unsafe.code, `a field name in ${describePath('body', path)} contains ${unsafe.what}`, path, unsafe.code === 'nul_character' ? 'control_character' : 'invalid_value');
      stack.push({ value: item, path: [...path, key] });
    }
  }
}

/** The request body as bytes; an oversized one is drained (so the client reads the 413), within a bound. */
export async function readBody(request: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
    else if (size > MAX_DRAINED_BYTES) {
      request.destroy();
      break;
    }
  }
  if (size > maxBytes) throw new EdgeError(413, 'body_too_large', `a request body is at most ${maxBytes} bytes`, [], 'too_large', { connection: 'close' });
  return Buffer.concat(chunks);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** A JSON object from the body; an empty body is `{}` (the routes without a payload). */
export function parseBody(request: IncomingMessage, bytes: Buffer): Record<string, unknown> {
  if (bytes.length === 0) return {};
  const type = request.headers['content-type'];
  const [media, ...parameters] = (type ?? '').split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters.find((parameter) => parameter.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (media !== 'application/json' || (charset !== undefined && charset !== 'utf-8')) {
    throw new EdgeError(415, 'unsupported_media_type', 'a request body is JSON: send content-type: application/json (UTF-8)', [], 'invalid_format');
  }
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new EdgeError(400, 'invalid_utf8', 'the request body is not UTF-8', [], 'invalid_format');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new EdgeError(400, 'malformed_json', `the request body is not JSON: ${reason.slice(0, 200)}`, [], 'invalid_format');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new EdgeError(400, 'invalid_body', 'the request body must be a JSON object', [], 'invalid_type');
  checkBody(body);
  return body as Record<string, unknown>;
}

/** A header read as a string (the first when repeated), checked like any other value from the client. */
export function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  const text = Array.isArray(value) ? value[0] : value;
  if (text !== undefined) checkString(text, `header ${name}`, []);
  return text;
}
