// Batched UDP I/O (issue 16): a listener's datagrams read with recvmmsg and its answers sent with sendmmsg, by the
// small addon native/udpio.c, on the descriptor of the dgram socket udp.ts bound. Node 20's dgram makes a system
// call and a JavaScript call per datagram each way, and under a random-name stream on two cores most of a worker's
// time was that (docs/bench.md). The socket stays Node's: it binds, it is shared with the cluster's workers, it
// closes; only its reading stops, and the addon polls a duplicate of its descriptor in the same event loop.
//
// `udp-io: auto` (the default) uses the addon when it is built (scripts/build-native.mjs, run by `npm run build`
// and `npm test`) and loads, dgram otherwise; `batched` requires it; `dgram` never uses it.
import { createRequire } from 'node:module';
import { endianness } from 'node:os';
import type { Socket } from 'node:dgram';
import type { Peer } from '../transfer/service.js';
import { formatIPv4, formatIPv6 } from '../dns/rdata/ip.js';

export type UdpIoMode = 'auto' | 'batched' | 'dgram';

interface Addon {
  open(fd: number, onBatch: (n: number) => void, input: ArrayBuffer, meta: ArrayBuffer, out: ArrayBuffer, outMeta: ArrayBuffer): object;
  send(handle: object, count: number): number;
  close(handle: object): void;
  stats(handle: object): [number, number, number];
  ifname(index: number): string | undefined;
  slots: number;
  slot: number;
  meta: number;
}

let addon: { mod?: Addon; why?: string } | undefined;

/** The addon, or why there is none (loaded once per process). */
export function batchedUdpIo(): { mod?: Addon; why?: string } {
  if (addon) return addon;
  if (process.platform !== 'linux') return (addon = { why: `recvmmsg/sendmmsg are Linux calls; this is ${process.platform}` });
  // The peer's address is read from the addon's int32 cells as bytes: little-endian hosts only (x86-64, arm64).
  if (endianness() !== 'LE') return (addon = { why: 'a big-endian host' });
  const path = new URL('../../native/udpio.node', import.meta.url).pathname;
  try {
    const mod = createRequire(import.meta.url)(path) as Addon;
    if (typeof mod.open !== 'function' || mod.meta !== META) return (addon = { why: `${path} is another version` });
    return (addon = { mod });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return (addon = { why: e.code === 'MODULE_NOT_FOUND' ? `${path} is not built (npm run build)` : `${path} does not load: ${e.message.split('\n')[0]}` });
  }
}

const META = 10; // int32 per datagram (native/udpio.c)

/**
 * A batched datagram's peer. The address string is made only when asked for (RRL, logs, transfers and NOTIFY ask;
 * a cached answer without RRL does not); the raw cells go back to the addon with the answer. `scope`: an IPv6
 * peer's scope id, the interface a link-local address is on (answers must go out on it).
 */
export class BatchPeer implements Peer {
  private text: string | undefined;
  constructor(readonly port: number, readonly family: 4 | 6, readonly a0: number, readonly a1: number, readonly a2: number, readonly a3: number, readonly scope = 0) {}
  /**
   * The cells hold the address's bytes as the kernel gave them (network order), read here as bytes: the text is
   * dgram's (inet_ntop's rules, RFC 5952 §4), and, as Node does, a link-local address with a scope gets `%` and the
   * interface's name (its index when the interface is gone).
   */
  get address(): string {
    if (this.text !== undefined) return this.text;
    scratch.set([this.a0, this.a1, this.a2, this.a3]);
    if (this.family === 4) return (this.text = formatIPv4(scratchBytes));
    const text = formatIPv6(scratchBytes);
    const linkLocal = scratchBytes[0] === 0xfe && (scratchBytes[1] & 0xc0) === 0x80;
    const scope = this.scope >>> 0;
    return (this.text = linkLocal && scope !== 0 ? `${text}%${addon?.mod?.ifname(scope) ?? scope}` : text);
  }
}

const scratch = new Int32Array(4);
const scratchBytes = new Uint8Array(scratch.buffer);

/** The peer in the 7 cells at `at` (port, family, address, scope): the addon's layout, in and out. */
function peerAt(cells: Int32Array, at: number): BatchPeer {
  return new BatchPeer(cells[at], cells[at + 1] as 4 | 6, cells[at + 2], cells[at + 3], cells[at + 4], cells[at + 5], cells[at + 6]);
}

function putPeer(cells: Int32Array, at: number, p: BatchPeer): void {
  cells[at] = p.port;
  cells[at + 1] = p.family;
  cells[at + 2] = p.a0;
  cells[at + 3] = p.a1;
  cells[at + 4] = p.a2;
  cells[at + 5] = p.a3;
  cells[at + 6] = p.scope;
}

/** Where a listener's answers go: `send` may be called during a batch or any time after. */
export interface DatagramSink {
  send(out: Uint8Array, peer: Peer): void;
}

export interface BatchedListener {
  close(): void;
  /** Batches read, datagrams read, answers the addon sent (the rest went through dgram). */
  stats(): { batches: number; received: number; sent: number };
}

const OUT_BYTES = 1 << 20;
const OUT_SLOTS = 256;

/** The bound dgram socket's handle with its descriptor (Node keeps it in the socket's state, not in its API), or undefined. */
function handleOf(socket: Socket): { fd: number; recvStop(): number } | undefined {
  const state = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol');
  const handle = state && (socket as unknown as Record<symbol, { handle?: { fd?: unknown; recvStop?: unknown } } | undefined>)[state]?.handle;
  const ok = typeof handle?.fd === 'number' && handle.fd >= 0 && typeof handle.recvStop === 'function';
  return ok ? (handle as { fd: number; recvStop(): number }) : undefined;
}

/**
 * Reads the bound `socket`'s datagrams in batches, each given to `onDatagram` with a copy of its bytes and a
 * BatchPeer; answers given to the sink in a batch leave at its end, in one sendmmsg; answers given later leave at
 * the end of their tick. An answer the kernel refuses (a full socket buffer) goes through the dgram socket, which
 * queues it. Returns undefined, dgram still reading, when the socket's descriptor cannot be had.
 */
export function readBatched(socket: Socket, mod: Addon, onDatagram: (msg: Uint8Array, peer: BatchPeer, sink: DatagramSink) => void): BatchedListener | undefined {
  const dgramHandle = handleOf(socket);
  if (!dgramHandle) return undefined;
  const input = new ArrayBuffer(mod.slots * mod.slot);
  const inBytes = new Uint8Array(input);
  const meta = new Int32Array(mod.slots * META);
  const out = new ArrayBuffer(OUT_BYTES);
  const outBytes = new Uint8Array(out);
  const outMeta = new Int32Array(OUT_SLOTS * META);
  let count = 0, used = 0, inBatch = false, scheduled = false, closed = false;
  let handle: object | undefined;

  const viaDgram = (bytes: Uint8Array, peer: Peer) => socket.send(bytes, peer.port, peer.address);
  const flush = () => {
    scheduled = false;
    // Closed (an answer queued for the end of a tick that came after close): dropped.
    const n = count === 0 || closed ? count : mod.send(handle!, count);
    for (let i = n; i < count; i++) {
      const m = i * META;
      try {
        viaDgram(outBytes.slice(outMeta[m], outMeta[m] + outMeta[m + 1]), peerAt(outMeta, m + 2));
      } catch {
        // dgram refuses it at once (port 0): dropped, as a datagram may be; the answers after it still go.
      }
    }
    count = 0;
    used = 0;
  };
  const sink: DatagramSink = {
    send(bytes, peer) {
      if (closed) return;
      if (!(peer instanceof BatchPeer) || bytes.length > OUT_BYTES) return viaDgram(bytes, peer);
      if (count === OUT_SLOTS || used + bytes.length > OUT_BYTES) flush();
      const m = count * META;
      outBytes.set(bytes, used);
      outMeta[m] = used;
      outMeta[m + 1] = bytes.length;
      putPeer(outMeta, m + 2, peer);
      used += bytes.length;
      count++;
      if (!inBatch && !scheduled) {
        scheduled = true;
        process.nextTick(flush);
      }
    },
  };
  const onBatch = (n: number) => {
    inBatch = true;
    try {
      for (let i = 0; i < n; i++) {
        const m = i * META;
        const start = i * mod.slot;
        // A copy: the next batch reuses the slot, and a query not answered at once is kept (handle.ts).
        onDatagram(inBytes.slice(start, start + meta[m]), peerAt(meta, m + 1), sink);
      }
    } finally {
      inBatch = false;
      flush();
    }
  };
  try {
    handle = mod.open(dgramHandle.fd, onBatch, input, meta.buffer, out, outMeta.buffer);
  } catch {
    return undefined;
  }
  // Stop dgram's own reading only once the addon polls: a datagram is read by one of them, never by none.
  dgramHandle.recvStop();
  return {
    close() {
      if (closed) return;
      flush();
      closed = true;
      mod.close(handle!);
    },
    stats() {
      const [batches, received, sent] = mod.stats(handle!);
      return { batches, received, sent };
    },
  };
}
