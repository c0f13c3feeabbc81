// An RFC 2136 UPDATE in, as one straight line: read the message -> the zone (NOTAUTH when not ours) -> the zone's
// policy and the TSIG key (REFUSED / NOTAUTH) -> the form of the sections (FORMERR, NOTZONE) -> the policy for
// every update (REFUSED) -> one change through the zone manager, which checks the prerequisites against the zone
// as served and applies the updates wholly or not at all. The caller (transfer/service.ts `control`) has checked
// the TSIG already (a bad one is NOTAUTH there) and signs the answer.
import type { Logger } from 'pino';
import { readMessage } from '../dns/reader.js';
import { Rcode } from '../dns/types.js';
import type { TsigKey } from '../dns/tsig.js';
import type { TandemZoneManager } from '../state/manager.js';
import { parseUpdate, updateZone } from './message.js';
import { checkPrerequisites } from './prereq.js';
import { denied } from './policy.js';
import { forwarding, rcodeName } from './forward.js';

export interface UpdateDeps {
  manager: TandemZoneManager;
  logger: Logger;
}

/** The RCODE to answer an UPDATE with (RFC 2136 §3.8: the answer carries the zone section and nothing more). */
export async function answerUpdate(msg: Uint8Array, key: TsigKey | undefined, peer: { address: string; port: number }, deps: UpdateDeps): Promise<number> {
  const log = deps.logger;
  const who: Record<string, unknown> = { peer: `${peer.address}#${peer.port}`, key: key?.name.toString() };
  const done = (rcode: number, reason: string, extra: Record<string, unknown> = {}): number => {
    log.info({ ...who, rcode: rcodeName(rcode), reason, ...extra }, 'UPDATE not applied');
    return rcode;
  };
  const read = readMessage(msg);
  if (!read.ok) return done(Rcode.FORMERR, read.error.reason);
  const z = updateZone(read.message);
  if (!z.ok) return done(z.rcode, z.reason);
  who.zone = z.zone.toString();
  // RFC 2136 §3.1.2: the zone section must name a zone we are authoritative for, by its apex.
  const v = deps.manager.version(z.zone);
  if (!v) return done(Rcode.NOTAUTH, 'not a zone served here');
  // RFC 2136 §6: a secondary zone's UPDATE is forwarded to its primary when the zone says so (forward.ts; the
  // caller sends those on before they get here), else REFUSED.
  if (v.config.secondary) {
    const f = forwarding(v.config.secondary, peer.address);
    return done(Rcode.REFUSED, f.ok ? 'a secondary zone: forwarded UPDATE is sent on by the transfer service' : f.reason);
  }
  const grants = v.config.update ?? [];
  if (grants.length === 0) return done(Rcode.REFUSED, 'the zone has no update policy (zone.update)');
  // Unsigned UPDATE is never accepted: the policy names keys only.
  if (!key) return done(Rcode.NOTAUTH, 'unsigned UPDATE (the zone takes UPDATE signed with a zone.update key only)');
  const parsed = parseUpdate(read.message, v.origin);
  if (!parsed.ok) return done(parsed.rcode, parsed.reason);
  const { prerequisites, ops } = parsed.update;
  const no = denied(grants, key.name, ops);
  if (no) return done(Rcode.REFUSED, `${no} (RFC 2136 §3.3)`);
  let r;
  try {
    r = await deps.manager.applyUpdate(v.id, ops, { prerequisite: (zone) => checkPrerequisites(zone, prerequisites) });
  } catch (err) {
    // RFC 2136 §3.4.2.1: anything else that stops the change is SERVFAIL, with nothing changed.
    log.error({ ...who, err }, 'UPDATE failed');
    return Rcode.SERVFAIL;
  }
  if (!r.ok) return done(r.rcode, r.reason);
  log.info({ ...who, rcode: 'NOERROR', serial: r.serial, changes: r.changes, ...(r.ignored.length ? { ignored: r.ignored } : {}) }, r.changes.length ? 'UPDATE applied' : 'UPDATE applied, nothing changed');
  return Rcode.NOERROR;
}
