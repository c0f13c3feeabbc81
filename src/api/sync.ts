// tandem's own routes for key sync with the other signers (update/sync/), beside the Cloudflare ones:
//   GET  /zones/{id}/tandem/sync                 every peer: what we published there, its keys, what differs,
//                                                a removal in progress, and the NOTIFYs sent to the parent
//   POST /zones/{id}/tandem/sync                 sync with every peer now, then the same
//   POST /zones/{id}/tandem/sync/{peer}/remove   withdraw a peer's keys (RFC 8901 order), {"ds_absent": true}
//                                                to say the parent's DS for its KSKs is gone
//   GET  /zones/{id}/tandem/notifications        generalized NOTIFYs received as a parent (RFC 9859)
import { ApiError, Code, success } from './envelope.js';
import type { RequestContext, Router } from './router.js';
import { describeIssues, syncRemoveBody } from './schemas.js';
import { SyncError } from '../update/sync/peer.js';
import type { SyncApi } from '../update/sync/types.js';
import { zoneOf } from './secondary.js';

function sync(ctx: RequestContext): SyncApi {
  if (!ctx.sync) throw new ApiError(404, Code.NO_ROUTE, 'key sync is not available in this server (yet: it starts once the zones are loaded)');
  return ctx.sync;
}

export function addSyncRoutes(r: Router, prefix: string): void {
  r.add('GET', `${prefix}/zones/:zone/tandem/sync`, async (ctx) => ({ body: success(await sync(ctx).status(zoneOf(ctx).name)) }));
  r.add('POST', `${prefix}/zones/:zone/tandem/sync`, async (ctx) => ({ body: success(await sync(ctx).run(zoneOf(ctx).name)) }));
  r.add('POST', `${prefix}/zones/:zone/tandem/sync/:peer/remove`, async (ctx) => {
    const zone = zoneOf(ctx);
    const b = syncRemoveBody.safeParse(ctx.body ?? {});
    if (!b.success) throw new ApiError(400, Code.INVALID_FIELD, describeIssues(b.error).join('; '));
    try {
      return { body: success(await sync(ctx).remove(zone.name, ctx.params.peer, { dsAbsent: b.data.ds_absent })) };
    } catch (err) {
      if (err instanceof SyncError) throw new ApiError(404, Code.NO_ROUTE, err.message);
      throw err;
    }
  });
  r.add('GET', `${prefix}/zones/:zone/tandem/notifications`, (ctx) => ({ body: success(sync(ctx).notifications(zoneOf(ctx).name)) }));
}
