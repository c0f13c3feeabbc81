// Credentials of the admin API. Secrets are kept only as SHA-256 digests and compared in constant time; the
// presented secret is hashed first, so the compared buffers always have the same length. Header handling and
// the error codes follow what Cloudflare answers (docs/api.md, "Authentication").
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ensureDir, PRIVATE_FILE_MODE, writeFileAtomic } from '../state/atomic.js';
import { ApiError, Code } from './envelope.js';

export interface ApiAuthConfig {
  /** SHA-256 (hex) of API tokens (`Authorization: Bearer`). */
  tokens: string[];
  /** Legacy global keys: `X-Auth-Email` + `X-Auth-Key`; `keyHash` is SHA-256 hex of the key. */
  users: { email: string; keyHash: string }[];
  /** SHA-256 (hex) of NS1 keys (`X-NSONE-Key`). */
  ns1Keys: string[];
}

/** The `api_auth:` section of the server config file. Each secret is a plain value or `sha256:<64 hex>`. */
export interface RawApiAuth {
  tokens: string[];
  users: { email: string; key: string }[];
  ns1_keys: string[];
}

export class ApiAuthConfigError extends Error {}

/** File (under the state folder) holding the token generated when no credential is configured. */
export const TOKEN_FILE = 'api-token';

const HASHED = /^sha256:([0-9a-fA-F]{64})$/;

export function sha256Hex(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A configured secret: `sha256:<hex>` is taken as the digest, anything else is hashed here. */
export function secretHash(value: string): string {
  const m = HASHED.exec(value);
  return m ? m[1].toLowerCase() : sha256Hex(value);
}

const rawSchema = z.object({
  tokens: z.array(z.string().min(1)).optional(),
  users: z.array(z.object({ email: z.string().min(3), key: z.string().min(1) }).strict()).optional(),
  ns1_keys: z.array(z.string().min(1)).optional(),
  ns1Keys: z.array(z.string().min(1)).optional(),
}).strict();

function isEmpty(a: ApiAuthConfig): boolean {
  return a.tokens.length === 0 && a.users.length === 0 && a.ns1Keys.length === 0;
}

/**
 * Merges credentials from the config file, `--api-token`, and the environment (`TANDEM_API_TOKEN`,
 * `TANDEM_AUTH_EMAIL` + `TANDEM_AUTH_KEY`, `TANDEM_NS1_KEY`). With none at all, the API is never left open: a
 * random token is generated once, stored in `<state>/api-token` (0600) and reused on later starts.
 */
export async function resolveApiAuth(opts: {
  configured?: Partial<RawApiAuth> | unknown;
  env: NodeJS.ProcessEnv;
  flagToken?: string;
  stateDir: string;
  logger: Logger;
}): Promise<{ auth: ApiAuthConfig; generated?: { tokenFile: string } }> {
  const auth: ApiAuthConfig = { tokens: [], users: [], ns1Keys: [] };
  if (opts.configured !== undefined && opts.configured !== null) {
    const parsed = rawSchema.safeParse(opts.configured);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ApiAuthConfigError(`api_auth.${issue.path.join('.')}: ${issue.message}`);
    }
    const c = parsed.data;
    for (const t of c.tokens ?? []) auth.tokens.push(secretHash(t));
    for (const u of c.users ?? []) auth.users.push({ email: u.email.toLowerCase(), keyHash: secretHash(u.key) });
    for (const k of [...(c.ns1_keys ?? []), ...(c.ns1Keys ?? [])]) auth.ns1Keys.push(secretHash(k));
  }
  const env = opts.env;
  if (opts.flagToken) auth.tokens.push(sha256Hex(opts.flagToken));
  if (env.TANDEM_API_TOKEN) auth.tokens.push(sha256Hex(env.TANDEM_API_TOKEN));
  if (env.TANDEM_AUTH_EMAIL || env.TANDEM_AUTH_KEY) {
    if (!env.TANDEM_AUTH_EMAIL || !env.TANDEM_AUTH_KEY)
      throw new ApiAuthConfigError('TANDEM_AUTH_EMAIL and TANDEM_AUTH_KEY must be set together');
    auth.users.push({ email: env.TANDEM_AUTH_EMAIL.toLowerCase(), keyHash: sha256Hex(env.TANDEM_AUTH_KEY) });
  }
  if (env.TANDEM_NS1_KEY) auth.ns1Keys.push(sha256Hex(env.TANDEM_NS1_KEY));
  if (!isEmpty(auth)) return { auth };

  const tokenFile = join(opts.stateDir, TOKEN_FILE);
  let token: string | undefined;
  try {
    token = (await readFile(tokenFile, 'utf8')).trim() || undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (!token) {
    token = randomBytes(32).toString('base64url');
    await ensureDir(opts.stateDir);
    await writeFileAtomic(tokenFile, token + '\n', PRIVATE_FILE_MODE);
    opts.logger.warn({ tokenFile }, 'no API credentials configured: generated an API token');
  }
  opts.logger.info({ tokenFile }, `admin API token: read it with \`cat ${tokenFile}\` and send 'Authorization: Bearer <token>'`);
  auth.tokens.push(sha256Hex(token));
  return { auth, generated: { tokenFile } };
}

/** Constant-time membership: every stored digest is compared, whatever matches first. */
function hashIn(secret: string, hashes: string[]): boolean {
  const got = createHash('sha256').update(secret, 'utf8').digest();
  let found = false;
  for (const h of hashes) {
    const want = Buffer.from(h, 'hex');
    if (want.length === got.length && timingSafeEqual(want, got)) found = true;
  }
  return found;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Cloudflare credential check. Throws ApiError with Cloudflare's codes and statuses:
 * nothing at all -> 400/9106, email without key -> 400/9107, key without email -> 400/9106,
 * unknown email/key -> 403/9103, malformed Authorization -> 400/6003 (chain 6111), unknown token -> 403/10000.
 */
export function checkCloudflareAuth(headers: IncomingHttpHeaders, auth: ApiAuthConfig): void {
  const authorization = header(headers, 'authorization');
  const email = header(headers, 'x-auth-email');
  const key = header(headers, 'x-auth-key');
  if (authorization !== undefined) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
    if (!m)
      throw new ApiError(400, Code.INVALID_HEADERS, 'Invalid request headers').withChain(Code.INVALID_AUTH_HEADER_FORMAT, 'Invalid format for Authorization header');
    if (hashIn(m[1], auth.tokens)) return;
    throw new ApiError(403, Code.AUTH_ERROR, 'Authentication error');
  }
  if (email === undefined && key === undefined)
    throw new ApiError(400, Code.MISSING_EMAIL, 'Missing X-Auth-Key, X-Auth-Email or Authorization headers');
  if (email === undefined) throw new ApiError(400, Code.MISSING_EMAIL, 'Missing X-Auth-Email header');
  if (key === undefined) throw new ApiError(400, Code.MISSING_KEY, 'Missing X-Auth-Key header');
  const wanted = email.trim().toLowerCase();
  const candidates = auth.users.filter((u) => u.email === wanted).map((u) => u.keyHash);
  // Always hash and compare, so an unknown email costs the same as a wrong key.
  const ok = hashIn(key.trim(), candidates.length > 0 ? candidates : ['0'.repeat(64)]);
  if (ok && candidates.length > 0) return;
  throw new ApiError(403, Code.UNKNOWN_KEY_OR_EMAIL, 'Unknown X-Auth-Key or X-Auth-Email');
}

/**
 * NS1 credential check: `X-NSONE-Key` against the NS1 keys and the API tokens (so the generated token works for
 * both shapes); a Bearer API token is accepted too. Returns false when the request must get NS1's 401.
 */
export function checkNs1Auth(headers: IncomingHttpHeaders, auth: ApiAuthConfig): boolean {
  const key = header(headers, 'x-nsone-key');
  if (key !== undefined) return hashIn(key.trim(), [...auth.ns1Keys, ...auth.tokens]);
  const authorization = header(headers, 'authorization');
  const m = authorization !== undefined ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization) : null;
  return m !== null && hashIn(m[1], auth.tokens);
}
