// The admin HTTP listener (node:http, no framework): auth first, then routing, then the size-capped body, then
// the handler. Every failure is answered in the route family's shape: Cloudflare's envelope under /client/v4
// (and anywhere unknown), NS1's `{message}` under /v1.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { TransferApi, ZoneManager } from '../state/types.js';
import type { SyncApi } from '../update/sync/types.js';
import { addSyncRoutes } from './sync.js';
import { addSecondaryRoutes } from './secondary.js';
import { addRolloverRoutes, type RolloverApi } from './rollover.js';
import { checkCloudflareAuth, checkNs1Auth, type ApiAuthConfig } from './auth.js';
import { MAX_BODY, parseJson, readBody } from './body.js';
import { addCloudflareRoutes, CF_PREFIX } from './cloudflare.js';
import { ApiError, Code, failure, sendJson, toApiError } from './envelope.js';
import { addNs1Routes, NS1_PREFIX, Ns1Error, ns1ErrorBody } from './ns1.js';
import { Router, type Shape } from './router.js';
import { AuthFailureLimiter, type AuthLimitOptions } from './ratelimit.js';
import { systemClock, type Clock } from '../dnssec/types.js';

export interface ApiOptions {
  manager: ZoneManager;
  /** Zone transfers (the secondary_dns routes). */
  transfers?: TransferApi;
  /** Key sync (the tandem/sync routes). */
  sync?: SyncApi;
  /** Key rollovers (the tandem/rollover routes), once the server runs them. */
  rollover?: () => RolloverApi | undefined;
  auth: ApiAuthConfig;
  at: { host: string; port: number };
  logger: Logger;
  /** Request body cap in bytes (default 1 MiB). */
  maxBody?: number;
  /** /health, /ready, /metrics (metrics/http.ts), answered before the API's routes. */
  ops?: OpsEndpoints;
  /** Failed-authentication rate limit per client address (ratelimit.ts; default 10 failures a minute). */
  authLimit?: AuthLimitOptions;
  /** Clock of the rate limit's windows (seconds). */
  clock?: Clock;
  /** Told of every write request (POST, PUT, PATCH, DELETE) and how it ended, for the metrics. */
  onChange?: (change: AdminChange) => void;
}

/** Operational endpoints served on the API listener. */
export interface OpsEndpoints {
  /** Whether `path` is one of them: answered without credentials ('public') or after the API's auth check ('auth'). */
  match(path: string): 'public' | 'auth' | undefined;
  serve(path: string, req: IncomingMessage, res: ServerResponse): Promise<void>;
}

/** One admin write request: `kind` is the method and route template (`POST /client/v4/zones/:zone/dns_records`). */
export interface AdminChange {
  api: Shape;
  kind: string;
  result: 'ok' | 'refused' | 'error';
}

export interface RunningApi {
  address: { host: string; port: number };
  close(): Promise<void>;
}

export function createRouter(): Router {
  const r = new Router();
  addSecondaryRoutes(r, CF_PREFIX);
  addSyncRoutes(r, CF_PREFIX);
  addCloudflareRoutes(r);
  addNs1Routes(r);
  return r;
}

function shapeOf(path: string): Shape {
  return path === NS1_PREFIX || path.startsWith(NS1_PREFIX + '/') ? 'ns1' : 'cloudflare';
}

function sendError(res: ServerResponse, shape: Shape, err: ApiError, headers: Record<string, string> = {}): void {
  if (shape === 'ns1') {
    const { status, body } = ns1ErrorBody(err);
    sendJson(res, status, body, headers);
  } else sendJson(res, err.status, failure(err.errors), headers);
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

async function handle(req: IncomingMessage, res: ServerResponse, router: Router, opts: ApiOptions, limiter: AuthFailureLimiter, log: Logger): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://tandem.invalid');
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  const method = (req.method ?? 'GET').toUpperCase();
  const shape = shapeOf(path);
  const ops = opts.ops?.match(path);
  // A write's route once matched; 'unrouted' when it failed before (credentials, no route).
  let kind = 'unrouted';
  const counted = (status: number) => {
    if (opts.onChange && BODY_METHODS.has(method)) opts.onChange({ api: shape, kind, result: status < 400 ? 'ok' : status < 500 ? 'refused' : 'error' });
  };
  const client = req.socket.remoteAddress;
  const opsRead = ops !== undefined && (method === 'GET' || method === 'HEAD');
  try {
    if (ops !== 'public' || !opsRead) {
      // An address that failed authentication too often is not heard until its window ends (ratelimit.ts).
      const wait = limiter.retryAfter(client);
      if (wait > 0) {
        const headers = { 'retry-after': String(wait) };
        if (shape === 'ns1') sendJson(res, 429, { message: `Too many failed authentication attempts from ${client}: retry after ${wait} s` }, headers);
        else sendError(res, shape, new ApiError(429, Code.RATE_LIMITED, 'Please wait and consider throttling your request speed'), headers);
        counted(429);
        log.info({ method, path, status: 429, client, retryAfter: wait }, 'api request refused: authentication rate limit');
        return;
      }
      // Credentials on every route, before anything else is looked at.
      try {
        if (shape === 'ns1' && !opsRead) {
          if (!checkNs1Auth(req.headers, opts.auth)) throw new Ns1Error(401, 'Unauthorized');
        } else checkCloudflareAuth(req.headers, opts.auth);
      } catch (err) {
        if (limiter.failed(client)) {
          log.warn({ client, failures: limiter.failures, windowSeconds: limiter.windowSeconds }, 'authentication failed too often: address blocked until its window ends');
        }
        throw err;
      }
      limiter.succeeded(client);
    }
    if (opsRead) {
      await opts.ops!.serve(path, req, res);
      return;
    }

    const match = router.match(method, path);
    if (match.kind === 'none') {
      if (shape === 'ns1') throw new Ns1Error(404, 'Not Found');
      throw new ApiError(404, Code.NO_ROUTE, 'No route for the URI');
    }
    if (match.kind === 'method') {
      res.setHeader('allow', match.allowed.join(', '));
      if (shape === 'ns1') throw new Ns1Error(405, `Method ${method} not allowed`);
      throw new ApiError(405, Code.METHOD_NOT_ALLOWED, `Method ${method} not available for that URI.`);
    }
    kind = `${method} ${match.template}`;
    const body = BODY_METHODS.has(method) ? parseJson(await readBody(req, opts.maxBody ?? MAX_BODY)) : undefined;
    const reply = await match.handler({ method, path, params: match.params, query: url.searchParams, headers: req.headers, body, manager: opts.manager, transfers: opts.transfers, sync: opts.sync, logger: log });
    sendJson(res, reply.status ?? 200, reply.body);
    counted(reply.status ?? 200);
    log.debug({ method, path, status: reply.status ?? 200 }, 'api request');
  } catch (err) {
    if (err instanceof Ns1Error) {
      sendJson(res, err.status, { message: err.message });
      counted(err.status);
      log.info({ method, path, status: err.status, err: err.message }, 'api request refused');
      return;
    }
    const apiErr = toApiError(err);
    if (apiErr) {
      // A body we stopped reading must not be parsed as the next request.
      const headers: Record<string, string> = apiErr.status === 413 ? { connection: 'close' } : {};
      sendError(res, shape, apiErr, headers);
      counted(apiErr.status);
      log.info({ method, path, status: apiErr.status, code: apiErr.errors[0].code, err: apiErr.message }, 'api request refused');
      return;
    }
    log.error({ err, method, path }, 'api handler failed');
    sendError(res, shape, new ApiError(500, Code.INTERNAL, 'Internal error'));
    counted(500);
  }
}

export async function startApi(opts: ApiOptions): Promise<RunningApi> {
  const router = createRouter();
  addRolloverRoutes(router, CF_PREFIX, opts.rollover ?? (() => undefined));
  const log = opts.logger.child({ component: 'api' });
  const limiter = new AuthFailureLimiter(opts.clock ?? systemClock, opts.authLimit);
  const server = createServer((req, res) => {
    void handle(req, res, router, opts, limiter, log).catch((err: unknown) => {
      log.error({ err }, 'api response failed');
      res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.at.port, opts.at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const address = { host: a.address, port: a.port };
  log.info({ address: `${address.host}:${address.port}` }, 'admin API listening');
  return {
    address,
    close: () => new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    }),
  };
}
