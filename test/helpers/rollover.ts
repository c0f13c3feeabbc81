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
