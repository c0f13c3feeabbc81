// Zone transfers in the admin API, in Cloudflare's secondary DNS shapes (/zones/{id}/secondary_dns/...):
// incoming (tandem secondary: primaries, serial, timers, last error), force_axfr, outgoing (tandem primary:
// who may transfer, what they get, NOTIFY targets). Cloudflare's fields first, tandem's own under `tandem`.
import { ApiError, Code, success } from './envelope.js';
import type { RequestContext, Router } from './router.js';
import { fqdn } from './records.js';
import type { TransferApi, ZoneView } from '../state/types.js';

/** The zone of `/zones/{id}/...` (404 in Cloudflare's words when there is none); also api/sync.ts. */
export function zoneOf(ctx: RequestContext): ZoneView {
  const zone = ctx.manager.zone(ctx.params.zone);
  if (!zone) throw new ApiError(404, Code.NO_ROUTE, `Could not route to /zones/${ctx.params.zone}, perhaps your object identifier is invalid?`);
  return zone;
}

function transfers(ctx: RequestContext): TransferApi {
  if (!ctx.transfers) throw new ApiError(404, Code.NO_ROUTE, 'zone transfers are not available in this server');
  return ctx.transfers;
}

export function addSecondaryRoutes(r: Router, prefix: string): void {
  const incoming = (ctx: RequestContext, zone: ZoneView) => {
    const st = transfers(ctx).secondary(zone.name);
    if (!st) throw new ApiError(404, Code.NO_ROUTE, `${fqdn(zone.name)} is not a secondary zone (no zone.secondary in its zone file)`);
    return {
      id: zone.id,
      name: fqdn(zone.name),
      peers: st.primaries,
      auto_refresh_seconds: null,
      soa_serial: st.serial ?? null,
      checked_time: st.lastRefresh ?? null,
      created_time: zone.createdOn,
      modified_time: st.lastTransfer ?? null,
      tandem: st,
    };
  };
  r.add('GET', `${prefix}/zones/:zone/secondary_dns/incoming`, (ctx) => ({ body: success(incoming(ctx, zoneOf(ctx))) }));
  r.add('POST', `${prefix}/zones/:zone/secondary_dns/force_axfr`, async (ctx) => {
    const zone = zoneOf(ctx);
    incoming(ctx, zone);
    await transfers(ctx).refresh(zone.name, { axfr: true });
    return { body: success('OK') };
  });
  r.add('POST', `${prefix}/zones/:zone/secondary_dns/refresh`, async (ctx) => {
    const zone = zoneOf(ctx);
    incoming(ctx, zone);
    await transfers(ctx).refresh(zone.name, { axfr: false });
    return { body: success(incoming(ctx, zone)) };
  });
  r.add('GET', `${prefix}/zones/:zone/secondary_dns/outgoing`, (ctx) => {
    const zone = zoneOf(ctx);
    const out = transfers(ctx).outgoing(zone.name);
    if (!out) throw new ApiError(404, Code.NO_ROUTE, `${fqdn(zone.name)} has no outgoing transfers (no zone.transfer in its zone file)`);
    return { body: success({ id: zone.id, name: fqdn(zone.name), peers: out.notify, soa_serial: out.serial, tandem: out }) };
  });
}
