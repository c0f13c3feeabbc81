// The parent check behind Cloudflare's DNSSEC states: pending -> active once the parent publishes a DS for our
// KSK, pending-disabled -> disabled once it is gone. Asks a resolver over DNS; a lab without a parent uses the
// API override (POST /zones/{id}/dnssec/parent_ds) instead.
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import packet from 'dns-packet';
import type { Logger } from 'pino';
import type { Endpoint } from '../config/server.js';
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

/** The DS RDATAs the resolver returns for `zone`, or undefined when it did not answer usefully. */
export function queryDs(resolver: Endpoint, zone: Name, timeoutMs = 3000): Promise<Uint8Array[] | undefined> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(isIPv6(resolver.host) ? 'udp6' : 'udp4');
    const id = Math.floor(Math.random() * 65536);
    const done = (v: Uint8Array[] | undefined) => {
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('message', (msg) => {
      try {
        const p = packet.decode(msg) as packet.DecodedPacket & { rcode?: string };
        if (p.id !== id) return;
        if (p.rcode !== 'NOERROR' && p.rcode !== 'NXDOMAIN') return done(undefined);
        const ds = (p.answers ?? []).filter((a) => a.type === 'DS' && a.name.toLowerCase() === zone.key.slice(0, -1));
        done(ds.map((a) => {
          const d = (a as unknown as { data: { keyTag: number; algorithm: number; digestType: number; digest: Buffer } }).data;
          return Uint8Array.from([d.keyTag >> 8, d.keyTag & 0xff, d.algorithm, d.digestType, ...d.digest]);
        }));
      } catch {
        done(undefined);
      }
    });
    sock.send(encodeQuery(zone, RRType.DS, { id, rd: true, do: true }), resolver.port, resolver.host);
  });
}

/** Checks every zone waiting for its parent now; returns how many changed state. */
export async function checkParents(manager: TandemZoneManager, resolver: Endpoint, logger: Logger): Promise<number> {
  let changed = 0;
  for (const z of manager.awaitingParent()) {
    const ours = manager.ourDs(z.id);
    if (!ours) continue;
    const ds = await queryDs(resolver, z.name);
    if (!ds) {
      logger.debug({ zone: z.name.toString() }, 'parent DS check: no answer');
      continue;
    }
    const present = ds.some((d) => ours.some((o) => rdataEquals(d, o)));
    if (present === z.want) {
      await manager.setParentDs(z.id, present);
      logger.info({ zone: z.name.toString(), ds: present }, present ? 'our DS is at the parent: DNSSEC active' : 'our DS is gone from the parent: DNSSEC disabled');
      changed++;
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
