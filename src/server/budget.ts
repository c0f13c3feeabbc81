// The signing budget (issue 15): every fresh name of a live-signed zone can cost a signature (compact denial's
// NXNAME NSEC, NSEC white lies, NSEC3 narrow answers), and a random-subdomain flood asks for nothing but fresh
// names. Signatures not in the signature cache therefore wait in a bounded queue that is worked off in short
// slices between socket reads (setImmediate: the event loop's poll phase reads datagrams between two slices),
// so answers from the response and signature caches keep flowing at full speed whatever the flood costs. When
// the socket is backlogged (libuv reads at most 32 datagrams per socket and loop turn: a turn that brought that
// many left more waiting), the slice shrinks to `busySliceMs`: the datagrams waiting are read (and answered from
// the caches, or refused) before the kernel drops them, and signing gets what is left, so the queue fills and the
// overflow is answered TC=1 cheaply instead of every query waiting in the socket buffer behind signatures.
//
// A UDP query that would need a fresh signature while `limit` signatures already wait gets TC=1 and no
// records (`overflow: 'tc'`; RFC 1035 §4.2.1, RFC 7766 §5: a real resolver retries over TCP, a spoofed flood
// cannot complete a handshake) or no answer (`'drop'`). TCP queries are never refused: they queue ahead of
// UDP ones, beyond the bound; TCP bounds itself (connections × queries in flight per connection, tcp.ts).
// Per process: with --workers N each worker has its own queue.
import type { Logger } from 'pino';
import type { SignGate } from '../dnssec/types.js';

export type Overflow = 'tc' | 'drop';

export interface SigningBudgetOptions {
  /** Fresh signatures that may wait; a UDP query past it is answered per `overflow`. 0: only cached answers over UDP. */
  limit: number;
  overflow: Overflow;
  /** Longest run of signing between two socket reads (default 1 ms). */
  sliceMs?: number;
  /** The same while the socket is backlogged (default 0.25 ms): reading comes first, signing still progresses. */
  busySliceMs?: number;
  /** A summary line per this many ms while queries overflow (default 10 000); never one per query. */
  summaryMs?: number;
  logger?: Logger;
  /** Monotonic milliseconds (default performance.now); injected by tests. */
  now?: () => number;
  /** Runs `fn` after pending I/O (default setImmediate); injected by tests. */
  defer?: (fn: () => void) => void;
}

/** A UDP query over the budget: the handler answers TC=1 or drops it (`SigningBudget.overflow`). */
export class OverBudget extends Error {
  constructor() {
    super('signing budget exceeded');
  }
}

/**
 * The one instance every refusal rejects with: an Error captures a stack trace when made, which cost more than
 * the rest of a refused query (a fifth of its time, measured); this one carries no information worth a trace.
 */
const OVER_BUDGET = new OverBudget();

export interface SigningBudgetStats {
  /** Fresh signatures made through the queue. */
  signed: number;
  /** UDP queries answered TC=1 because the queue was full. */
  truncated: number;
  /** UDP queries dropped because the queue was full (`overflow: drop`). */
  dropped: number;
  /** Most signatures waiting at once. */
  peak: number;
}

interface Job {
  make: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Datagrams per loop turn at which a socket is taken as backlogged: libuv's read limit per socket and turn (uv__udp_recvmsg). */
const BACKLOG = 32;

/** A FIFO with an index head (shift() on a long array is O(n)). */
class Fifo {
  private items: Job[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(j: Job): void {
    this.items.push(j);
  }
  shift(): Job | undefined {
    if (this.head >= this.items.length) return undefined;
    const j = this.items[this.head];
    this.items[this.head++] = undefined as unknown as Job;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return j;
  }
}

export class SigningBudget {
  readonly limit: number;
  readonly overflow: Overflow;
  readonly stats: SigningBudgetStats = { signed: 0, truncated: 0, dropped: 0, peak: 0 };
  private readonly tcp = new Fifo();
  private readonly udp = new Fifo();
  private readonly sliceMs: number;
  private readonly busySliceMs: number;
  /** UDP datagrams read since the last slice (`read()`). */
  private reads = 0;
  private readonly now: () => number;
  private readonly defer: (fn: () => void) => void;
  private scheduled = false;
  private readonly summary: Summary | undefined;

  constructor(opts: SigningBudgetOptions) {
    if (!Number.isInteger(opts.limit) || opts.limit < 0) throw new RangeError(`signing budget: limit must be an integer >= 0, not ${opts.limit}`);
    this.limit = opts.limit;
    this.overflow = opts.overflow;
    this.sliceMs = opts.sliceMs ?? 1;
    this.busySliceMs = opts.busySliceMs ?? 0.25;
    this.now = opts.now ?? (() => performance.now());
    this.defer = opts.defer ?? ((fn) => void setImmediate(fn));
    this.summary = opts.logger ? new Summary(opts.logger, this, opts.summaryMs ?? 10_000) : undefined;
  }

  /** Signatures waiting now. */
  get waiting(): number {
    return this.tcp.length + this.udp.length;
  }

  /**
   * The gate of one query (dnssec/types.ts SignGate): its first fresh signature is admitted while fewer than
   * `limit` wait (else OverBudget, which rejects the answer), every later one of the same answer is admitted
   * too (half an answer is no answer). `tcp`: always admitted, and served before UDP.
   */
  gate(transport: 'udp' | 'tcp'): SignGate {
    const tcp = transport === 'tcp';
    let admitted = tcp;
    return {
      run: <T>(make: () => Promise<T>): Promise<T> => {
        if (!admitted) {
          if (this.waiting >= this.limit) return Promise.reject(OVER_BUDGET);
          admitted = true;
        }
        return new Promise<T>((resolve, reject) => {
          (tcp ? this.tcp : this.udp).push({ make, resolve: resolve as (v: unknown) => void, reject });
          const w = this.waiting;
          if (w > this.stats.peak) this.stats.peak = w;
          this.schedule();
        });
      },
    };
  }

  /** A UDP datagram was read (handle.ts, for every one, cached or not): tells a backlogged socket. */
  read(): void {
    this.reads++;
  }

  /** Counts a UDP query turned away (the handler answered per `overflow`). */
  refused(): void {
    if (this.overflow === 'drop') this.stats.dropped++;
    else this.stats.truncated++;
    this.summary?.note();
  }

  close(): void {
    this.summary?.close();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.defer(this.slice);
  }

  /** Signs until the queue is empty or `sliceMs` has passed, then lets the event loop read sockets. */
  private readonly slice = (): void => {
    this.scheduled = false;
    const end = this.now() + (this.reads >= BACKLOG ? this.busySliceMs : this.sliceMs);
    this.reads = 0;
    for (;;) {
      const job = this.tcp.shift() ?? this.udp.shift();
      if (!job) return;
      this.stats.signed++;
      let p: Promise<unknown>;
      try {
        p = job.make();
      } catch (err) {
        p = Promise.reject(err);
      }
      p.then(job.resolve, job.reject);
      if (this.now() >= end) break;
    }
    if (this.waiting > 0) this.schedule();
  };
}

/** One log line per period while queries overflow (with what the period saw), and a last one when it ends. */
class Summary {
  private timer: NodeJS.Timeout | undefined;
  private last = { signed: 0, truncated: 0, dropped: 0 };

  constructor(private readonly logger: Logger, private readonly budget: SigningBudget, private readonly everyMs: number) {}

  note(): void {
    if (this.timer) return;
    this.last = { ...this.last, signed: this.budget.stats.signed };
    this.timer = setInterval(() => this.flush(), this.everyMs);
    this.timer.unref();
  }

  private flush(): void {
    const s = this.budget.stats;
    const period = { signed: s.signed - this.last.signed, truncated: s.truncated - this.last.truncated, dropped: s.dropped - this.last.dropped };
    this.last = { signed: s.signed, truncated: s.truncated, dropped: s.dropped };
    if (period.truncated === 0 && period.dropped === 0) {
      this.close(); // quiet: the next overflow starts a new period
      return;
    }
    this.logger.warn({ ...period, seconds: this.everyMs / 1000, limit: this.budget.limit, peak: s.peak, overflow: this.budget.overflow }, 'signing budget exceeded: UDP queries for fresh names answered TC or dropped');
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
