// Request bodies: size-capped, then parsed as JSON. A body over the cap is never buffered beyond the cap.
import type { IncomingMessage } from 'node:http';
import { ApiError, Code } from './envelope.js';

/** Largest request body accepted (1 MiB); bigger ones get 413. */
export const MAX_BODY = 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY): Promise<Buffer> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function tooLarge(limit: number): ApiError {
  return new ApiError(413, Code.BODY_TOO_LARGE, `Request body too large: the limit is ${limit} bytes`);
}

/** JSON from the raw body; an empty body is `undefined`. */
export function parseJson(raw: Buffer): unknown {
  const text = raw.toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    let hint = '';
    // The seed's `curl ... -data '{...}'` sends the three letters "ata" (curl reads -d with the argument "ata").
    if (/^ata\b/.test(text.trim())) hint = " (the body is 'ata': was the curl option written -data instead of --data?)";
    throw new ApiError(400, Code.MALFORMED_JSON, `Malformed JSON in request body: ${(e as Error).message}${hint}`);
  }
}
