// The proof of a rollover in interop tests: while it runs, a validating resolver is asked every second and every
// answer must carry AD. Two unbound instances: `cached` keeps what it learned before the rollover (the resolver of
// the issue, old keys cached), `pinned` is pinned each second to one ordered pair of providers (DNSKEY RRset from
// one, data from the other, lab notes), since unbound retries another server after a bogus answer and a mixed
// set-up alone would hide a provider that lacks a key.
import type { UnboundInstance } from './unbound.js';

export interface AdPollerOptions {
  zone: string;
  cached: UnboundInstance;
  pinned: UnboundInstance;
  /** Ordered pairs taken in turn, one a second. */
  pairs: { keys: { host: string; port: number }; data: { host: string; port: number }; what: string }[];
  /** Name and type asked each second of `cached` (all) and `pinned` (all but DNSKEY, asked by the pinning). */
  queries: [string, string][];
}

export interface AdPoller {
  /** Stops after the current round; resolves with the answers counted and every answer without AD. */
  stop(): Promise<{ answers: number; failures: string[] }>;
}

export function startAdPoller(o: AdPollerOptions): AdPoller {
  const failures: string[] = [];
  let answers = 0;
  let stopped = false;
  let round = 0;
  const check = (r: { flags: string[]; status: string }, what: string) => {
    answers++;
    if (!r.flags.includes('ad')) failures.push(`${new Date().toISOString()} ${what}: ${r.status} flags ${r.flags.join(' ')}`);
  };
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      for (const [name, type] of o.queries) check(await o.cached.query(name, type), `${name} ${type}`);
      const pair = o.pairs[round++ % o.pairs.length];
      check(await o.pinned.pinProviders(o.zone, pair.keys, pair.data), `DNSKEY (${pair.what})`);
      for (const [name, type] of o.queries.filter(([, t]) => t !== 'DNSKEY')) check(await o.pinned.query(name, type), `${name} ${type} (${pair.what})`);
      await new Promise((res) => setTimeout(res, Math.max(0, 1000 - (Date.now() - started))));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      return { answers, failures };
    },
  };
}

/** The zone both rollover tests roll (tandem + Knot as its providers), with short TTLs. */
export const RO_ZONE = 'ro.test.';
export const RO_TTL = 3;
export const RO_TANDEM_ZONE = `zone:
  ttl: ${RO_TTL}
  soa: { mname: ns1.tandem.ro.test., rname: hostmaster.ro.test., serial: 1, refresh: 3600, retry: 600, expire: 86400, minimum: ${RO_TTL}, ttl: ${RO_TTL} }
  nameservers: [ns1.tandem.ro.test.]
  ns_ttl: ${RO_TTL}
  dnssec:
    enabled: true
    denial: compact
    dnskey_ttl: ${RO_TTL}
records:
  ns1.tandem: { type: A, value: 127.0.0.1 }
  ns1.knot: { type: A, value: 127.0.0.1 }
  www: { type: A, value: 192.0.2.1 }
`;
export const RO_KNOT_ZONE = `$TTL ${RO_TTL}
@          IN SOA ns1.knot.ro.test. hostmaster.ro.test. 1 3600 600 86400 ${RO_TTL}
@          IN NS  ns1.knot.ro.test.
@          IN NS  ns1.tandem.ro.test.
ns1.tandem IN A   127.0.0.1
ns1.knot   IN A   127.0.0.1
www        IN A   192.0.2.1
`;
