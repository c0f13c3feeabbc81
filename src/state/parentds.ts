// The parent check behind Cloudflare's DNSSEC states: pending -> active once the parent publishes a DS for our
// KSK, pending-disabled -> disabled once it is gone. Asks a resolver over DNS; a lab without a parent uses the
// API override (POST /zones/{id}/dnssec/parent_ds) instead.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import packet from 'dns-packet';
import type { Logger } from 'pino';
import { formatEndpoint, type Endpoint } from '../config/server.js';
import { encodeQuery } from '../dns/message.js';
import type { Name } from '../dns/name.js';
import { RRType } from '../dns/types.js';
import { rdataEquals } from '../dns/rdata.js';
import type { TandemZoneManager } from './manager.js';

/** The first `nameserver` of /etc/resolv.conf, if any. */
export function systemResolver(): Endpoint | undefined {
  try {
    const m = /^\s*nameserver\s+(\S+)/m.exec(readFileSync('/etc/resolv.conf', 'utf8'));
    return m ? { host: m[1], port: 53 } : undefined;
  } catch {
    return undefined;
  }
}

/** The parent's answer: the DS RDATAs for the zone (none: no DS) and their TTL, or why there is no usable answer. */
export type DsAnswer = { ok: true; ds: Uint8Array[]; ttl?: number } | { ok: false; reason: string };

/** Asks `resolver` for the DS RRset of `zone` (RD and DO set). */
export function queryDs(resolver: Endpoint, zone: Name, timeoutMs = 3000): Promise<DsAnswer> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(isIPv6(resolver.host) ? 'udp6' : 'udp4');
    const id = Math.floor(Math.random() * 65536);
    const done = (v: DsAnswer) => {
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    const timer = setTimeout(() => done({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
    sock.on('error', (err) => done({ ok: false, reason: err.message }));
    sock.on('message', (msg) => {
      try {
        const p = packet.decode(msg) as packet.DecodedPacket & { rcode?: string };
        if (p.id !== id) return;
        if (p.rcode !== 'NOERROR' && p.rcode !== 'NXDOMAIN') return done({ ok: false, reason: `the resolver answered ${p.rcode}` });
        const ds = (p.answers ?? []).filter((a) => a.type === 'DS' && a.name.toLowerCase() === zone.key.slice(0, -1));
        const ttl = ds.length ? Math.max(...ds.map((a) => (a as { ttl?: number }).ttl ?? 0)) : undefined;
        done({ ok: true, ...(ttl !== undefined ? { ttl } : {}), ds: ds.map((a) => {
          const d = (a as unknown as { data: { keyTag: number; algorithm: number; digestType: number; digest: Buffer } }).data;
          return Uint8Array.from([d.keyTag >> 8, d.keyTag & 0xff, d.algorithm, d.digestType, ...d.digest]);
        }) });
      } catch (err) {
        done({ ok: false, reason: `an answer that does not parse (${(err as Error).message})` });
      }
    });
    sock.send(encodeQuery(zone, RRType.DS, { id, rd: true, do: true }), resolver.port, resolver.host);
  });
}

/**
 * Checks every zone waiting for its parent now; returns how many changed state. A check that gets no usable
 * answer is logged at warn (with the resolver and the reason): otherwise a zone would stay pending silently.
 */
export async function checkParents(manager: TandemZoneManager, resolver: Endpoint, logger: Logger): Promise<number> {
  let changed = 0;
  for (const z of manager.awaitingParent()) {
    const ours = manager.ourDs(z.id);
    if (!ours) continue;
    const zone = z.name.toString();
    const answer = await queryDs(resolver, z.name);
    if (!answer.ok) {
      logger.warn({ zone, resolver: formatEndpoint(resolver), reason: answer.reason },
        `parent DS check failed: the zone stays ${z.want ? 'pending' : 'pending-disabled'} (--parent-resolver names the resolver; POST /zones/{id}/dnssec/parent_ds overrides the check)`);
      continue;
    }
    const present = answer.ds.some((d) => ours.some((o) => rdataEquals(d, o)));
    if (present === z.want) {
      await manager.setParentDs(z.id, present);
      logger.info({ zone, ds: present }, present ? 'our DS is at the parent: DNSSEC active' : 'our DS is gone from the parent: DNSSEC disabled');
      changed++;
    } else if (z.want && answer.ds.length > 0) {
      logger.info({ zone, parentDs: answer.ds.length }, 'the parent publishes DS records, none for our KSK yet: DNSSEC stays pending (`tandem ds` prints ours)');
    } else {
      logger.debug({ zone, want: z.want }, 'parent DS check: no change');
    }
  }
  return changed;
}

export function startParentChecks(opts: { manager: TandemZoneManager; logger: Logger; resolver?: Endpoint; intervalSeconds: number }): { stop(): void } {
  const resolver = opts.resolver ?? systemResolver();
  if (!resolver) return { stop() {} };
  const run = () => void checkParents(opts.manager, resolver, opts.logger).catch((err) => opts.logger.warn({ err }, 'parent DS check failed'));
  const first = setTimeout(run, 1000);
  const timer = setInterval(run, opts.intervalSeconds * 1000);
  first.unref();
  timer.unref();
  return { stop: () => { clearTimeout(first); clearInterval(timer); } };
}
