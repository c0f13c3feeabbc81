// A small method + path-template router (`/zones/:zone/dns_records/:id`). Literal segments win over parameters
// only by insertion order, so add specific routes first.
import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { TransferApi, ZoneManager } from '../state/types.js';
import type { SyncApi } from '../update/sync/types.js';

export type Shape = 'cloudflare' | 'ns1';

export interface RequestContext {
  method: string;
  /** Path as requested (decoded segments are in `params`). */
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; undefined when the request had none. */
  body: unknown;
  manager: ZoneManager;
  /** Zone transfers (secondary status, force_axfr); absent in servers without them. */
  transfers?: TransferApi;
  /** Key sync with the other signers (update/sync/); absent in servers without it. */
  sync?: SyncApi;
  logger: Logger;
}

/** What a handler answers: the full JSON body (already in its provider's shape) and the HTTP status. */
export interface Reply {
  status?: number;
  body: unknown;
}

export type Handler = (ctx: RequestContext) => Promise<Reply> | Reply;

interface Route {
  method: string;
  template: string;
  segments: string[];
  handler: Handler;
}

export type Match =
  /** `template`: the route as added (`/client/v4/zones/:zone/dns_records`), a bounded label for metrics. */
  | { kind: 'found'; handler: Handler; params: Record<string, string>; template: string }
  | { kind: 'method'; allowed: string[] }
  | { kind: 'none' };

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, template: string, handler: Handler): this {
    this.routes.push({ method, template, segments: template.split('/').filter((s) => s !== ''), handler });
    return this;
  }

  match(method: string, path: string): Match {
    let parts: string[];
    try {
      parts = path.split('/').filter((s) => s !== '').map((s) => decodeURIComponent(s));
    } catch {
      return { kind: 'none' };
    }
    const allowed: string[] = [];
    for (const r of this.routes) {
      const params = matchSegments(r.segments, parts);
      if (!params) continue;
      if (r.method === method) return { kind: 'found', handler: r.handler, params, template: r.template };
      allowed.push(r.method);
    }
    return allowed.length > 0 ? { kind: 'method', allowed } : { kind: 'none' };
  }
}

function matchSegments(template: string[], parts: string[]): Record<string, string> | undefined {
  if (template.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i];
    if (t.startsWith(':')) params[t.slice(1)] = parts[i];
    else if (t !== parts[i]) return undefined;
  }
  return params;
}
