// Key rollovers in the admin API (tandem's own route, not Cloudflare's): GET /zones/{id}/tandem/rollover says the
// zone's rollover (step, what it waits for, the earliest time of the next step, the operator's part); POST starts
// one ({"kind": "zsk"|"ksk", "providers": ["HOST:PORT", ...]}). docs/api.md "Key rollovers".
import { ApiError, Code, success } from './envelope.js';
import type { RequestContext, Router } from './router.js';
import type { RolloverView } from '../rollover/service.js';
import type { RolloverKind } from '../rollover/state.js';

/** What the routes need of the rollover service (rollover/service.ts). */
export interface RolloverApi {
  status(zoneId: string): RolloverView | undefined;
  start(zoneId: string, kind: RolloverKind, providers?: string[]): Promise<RolloverView>;
}

const iso = (t: number | undefined) => (t === undefined ? null : new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'));

export function rolloverJson(v: RolloverView | undefined): Record<string, unknown> | null {
  if (!v) return null;
  const r = v.rollover;
  return {
    zone: r.zone, kind: r.kind, step: v.step, waiting_for: v.waitingFor, earliest_next: iso(v.earliestNext), todo: v.todo,
    old_key_tag: r.oldTag, new_key_tag: r.newTag, old_dnskey: r.oldDnskey, new_dnskey: r.newDnskey,
    providers: r.providers, seen: r.seen ?? [], last_check: iso(r.lastCheck),
    started_on: iso(r.startedAt), step_since: iso(r.stepSince), switched_on: iso(r.switchedAt), removed_on: iso(r.removedAt), done_on: iso(r.doneAt),
  };
}

export function addRolloverRoutes(r: Router, prefix: string, service: () => RolloverApi | undefined): void {
  const zoneId = (ctx: RequestContext) => {
    const zone = ctx.manager.zone(ctx.params.zone);
    if (!zone) throw new ApiError(404, Code.NO_ROUTE, `Could not route to /zones/${ctx.params.zone}, perhaps your object identifier is invalid?`);
    return zone.id;
  };
  const svc = () => {
    const s = service();
    if (!s) throw new ApiError(503, Code.NO_ROUTE, 'key rollovers are not running yet: they start once the zones are loaded');
    return s;
  };
  r.add('GET', `${prefix}/zones/:zone/tandem/rollover`, (ctx) => ({ body: success(rolloverJson(svc().status(zoneId(ctx)))) }));
  r.add('POST', `${prefix}/zones/:zone/tandem/rollover`, async (ctx) => {
    const id = zoneId(ctx);
    const body = (ctx.body ?? {}) as { kind?: unknown; providers?: unknown };
    if (body.kind !== 'zsk' && body.kind !== 'ksk') throw new ApiError(400, 1004, 'kind must be "zsk" or "ksk"');
    const providers = body.providers ?? [];
    if (!Array.isArray(providers) || providers.some((p) => typeof p !== 'string')) throw new ApiError(400, 1004, 'providers must be a list of "HOST[:PORT]" strings');
    return { body: success(rolloverJson(await svc().start(id, body.kind, providers as string[]))) };
  });
}
