// Failed authentication, rate-limited per client address: after `failures` failed credential checks within
// `windowSeconds`, the address gets 429 with Retry-After until that window ends, whatever it sends (a correct
// guess must not get through a block meant to stop guessing). A success clears the address's count, and clients
// that never fail are never counted, so valid clients at other addresses never notice. The table is bounded: past
// `maxAddresses` the entry touched longest ago goes. IPv6 clients count per /64, the block one host usually has.
import { isIPv6 } from 'node:net';
import type { Clock } from '../dnssec/types.js';

export interface AuthLimitOptions {
  /** Failed checks allowed per address and window (default 10). */
  failures?: number;
  /** Window length in seconds (default 60). */
  windowSeconds?: number;
  /** Most addresses tracked at once (default 10,000; about 1 MB). */
  maxAddresses?: number;
}

interface Entry {
  /** Start of the current window (clock seconds). */
  since: number;
  failures: number;
}

export class AuthFailureLimiter {
  readonly failures: number;
  readonly windowSeconds: number;
  readonly maxAddresses: number;
  /** Insertion order is recency order: every update deletes and re-inserts. */
  private readonly table = new Map<string, Entry>();

  constructor(private readonly clock: Clock, opts: AuthLimitOptions = {}) {
    this.failures = opts.failures ?? 10;
    this.windowSeconds = opts.windowSeconds ?? 60;
    this.maxAddresses = opts.maxAddresses ?? 10_000;
  }

  /** Seconds the address must wait before it is heard again (Retry-After), or 0 when it is not blocked. */
  retryAfter(address: string | undefined): number {
    const e = this.table.get(key(address));
    if (!e) return 0;
    const left = e.since + this.windowSeconds - this.clock.now();
    if (left <= 0) {
      this.table.delete(key(address));
      return 0;
    }
    return e.failures >= this.failures ? left : 0;
  }

  /** Counts a failed credential check; true when it blocks the address (the N-th failure of the window). */
  failed(address: string | undefined): boolean {
    const k = key(address);
    const now = this.clock.now();
    let e = this.table.get(k);
    if (e && now - e.since >= this.windowSeconds) e = undefined;
    this.table.delete(k);
    e ??= { since: now, failures: 0 };
    e.failures++;
    this.table.set(k, e);
    if (this.table.size > this.maxAddresses) this.table.delete(this.table.keys().next().value!);
    return e.failures === this.failures;
  }

  /** A credential check passed: the address starts afresh. */
  succeeded(address: string | undefined): void {
    if (this.table.size > 0) this.table.delete(key(address));
  }

  /** Addresses tracked now (tests, and a bound the metrics could show). */
  get size(): number {
    return this.table.size;
  }
}

/** The table key: the IPv4 address, or an IPv6 address's /64 (IPv4-mapped IPv6 addresses count as IPv4). */
function key(address: string | undefined): string {
  if (!address) return '?';
  if (address.startsWith('::ffff:') && !address.slice(7).includes(':')) return address.slice(7);
  if (!isIPv6(address)) return address;
  return expand(address).slice(0, 4).join(':') + '::/64';
}

/** The eight 16-bit groups of an IPv6 address, in hex without leading zeros. */
function expand(address: string): string[] {
  const [head, tail] = address.split('%')[0].split('::');
  const left = head ? head.split(':') : [];
  const right = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail !== undefined ? [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return groups.map((g) => (g.includes('.') ? g : parseInt(g, 16).toString(16)));
}
