/** The HTTP edge of the SCIM service: bodies in, JSON out, strings the store cannot hold refused. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { invalid, ScimRequestError, scimError } from './errors.js';

/** A group PUT with 10,000 members is about 0.6 MB; this leaves room. */
export const MAX_BODY_BYTES = 4 << 20;

export async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Drained, not cut off, so the client reads the 413 instead of a reset connection.
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) throw new ScimRequestError(scimError(413, undefined, `a request body is at most ${MAX_BODY_BYTES} bytes`));
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return invalid('invalidSyntax', `the request body is not JSON: ${(error as Error).message}`);
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return invalid('invalidSyntax', 'the request body must be a JSON object');
  checkStrings(body, '');
  return body as Record<string, unknown>;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** U+0000 cannot be stored (jsonb), and a lone surrogate is not text: both are refused here, with where. */
function checkStrings(value: unknown, where: string, depth = 0): void {
  if (depth > 32) invalid('invalidSyntax', 'the request body nests too deeply');
  if (typeof value === 'string') {
    if (value.includes('\u0000') || LONE_SURROGATE.test(value)) invalid('invalidValue', `${where || 'a value'} holds U+0000 or a lone surrogate`);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, item] of Object.entries(value)) {
    checkStrings(key, `${where}/${key}`, depth + 1);
    checkStrings(item, `${where}/${key}`, depth + 1);
  }
}

/** SCIM answers are `application/scim+json` (RFC 7644 §3.1); the Admin API's token routes answer JSON. */
export function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, contentType = 'application/scim+json'): void {
  if (response.headersSent) return;
  if (body === undefined) {
    response.writeHead(status, headers);
    response.end();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': `${contentType}; charset=utf-8`, 'cache-control': 'no-store', 'content-length': String(Buffer.byteLength(text)), ...headers });
  response.end(text);
}
