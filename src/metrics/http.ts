// The operational endpoints: /health (liveness: the process answers HTTP), /ready (readiness.ts: 200, or
// 503 naming what is not ready) and /metrics (Prometheus text format). They are served on the admin API
// listener (api/server.ts asks `match` before its own routes) and, with `metrics: HOST:PORT`, on a
// listener of their own that serves nothing else, for scrapers on a private address and for servers that
// run with the API off. None asks for credentials, but /metrics on the API listener with
// `metrics-auth: true` (docs/monitoring.md).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Endpoint } from '../config/server.js';
import type { OpsEndpoints } from '../api/server.js';
import { sendJson } from '../api/envelope.js';
import type { Metrics } from './registry.js';
import type { Readiness } from './readiness.js';

export interface OpsSources {
  /** Without: /metrics is not served. */
  metrics?: Metrics;
  ready(): Readiness;
}

export function opsEndpoints(src: OpsSources, opts: { metricsAuth?: boolean } = {}): OpsEndpoints {
  return {
    match(path) {
      if (path === '/health' || path === '/ready') return 'public';
      if (path === '/metrics' && src.metrics) return opts.metricsAuth ? 'auth' : 'public';
      return undefined;
    },
    serve: (path, _req, res) => serve(src, path, res),
  };
}

async function serve(src: OpsSources, path: string, res: ServerResponse): Promise<void> {
  if (path === '/health') return sendJson(res, 200, { status: 'ok' });
  if (path === '/ready') {
    const r = src.ready();
    return sendJson(res, r.ready ? 200 : 503, r.ready ? { ready: true, zones: r.zones } : { ready: false, zones: r.zones, not_ready: r.notReady });
  }
  const text = await src.metrics!.text();
  res.writeHead(200, { 'content-type': src.metrics!.contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

export interface OpsListener {
  address: Endpoint;
  close(): Promise<void>;
}

/** The `metrics: HOST:PORT` listener: the endpoints above, without credentials, and 404 for anything else. */
export async function startOpsListener(at: Endpoint, ops: OpsEndpoints, logger: Logger): Promise<OpsListener> {
  const log = logger.child({ component: 'metrics' });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://tandem.invalid').pathname;
    const method = req.method ?? 'GET';
    if (!ops.match(path)) return sendJson(res, 404, { error: 'not found: /health, /ready and /metrics are served here' });
    if (method !== 'GET' && method !== 'HEAD') return sendJson(res, 405, { error: 'GET only' }, { allow: 'GET, HEAD' });
    ops.serve(path, req, res).catch((err: unknown) => {
      log.error({ err, path }, 'metrics request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(at.port, at.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  const address = { host: a.address, port: a.port };
  log.info({ address: `${address.host}:${address.port}` }, 'metrics listening (/health, /ready, /metrics)');
  return {
    address,
    close: () => new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    }),
  };
}
