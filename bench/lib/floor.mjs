// The floor: a bare Node UDP server that answers every query with one fixed packet, copying only the query's
// ID into it (no parsing, no lookup, no encoding). Started like tandem (a cluster of N workers sharing one
// UDP socket, the kernel spreading datagrams over them), it measures what Node's dgram path and the load
// generator cost on these cores: tandem ÷ floor is the share of that ceiling tandem reaches.
//
// With IO `batched` (the default when tandem reads UDP in batches: README "UDP in batches") each worker reads and
// answers through the same addon and code as tandem (dist/server/udpio.js readBatched), so the floor stays the
// ceiling of the I/O path tandem uses; `dgram`: Node's dgram, one call per datagram.
//
//   node bench/lib/floor.mjs PORT WORKERS SIZE [IO]     (SIZE: length of the fixed answer in bytes, >= 60; IO: dgram|batched)
import cluster from 'node:cluster';
import dgram from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { startDaemon, waitFor } from './proc.mjs';

const SELF = fileURLToPath(import.meta.url);

/**
 * The fixed answer: header (QR AA, NOERROR, one question, one answer, one additional), question
 * `floor.bench.test. A IN`, answer `10.0.0.1` TTL 300, and an OPT RR whose EDNS Padding option (RFC 7830)
 * brings the packet to `size` bytes, so the floor sends as many bytes per answer as the server it is compared to.
 */
export function fixedAnswer(size) {
  const qname = Buffer.from([5, ...Buffer.from('floor'), 5, ...Buffer.from('bench'), 4, ...Buffer.from('test'), 0]);
  const header = Buffer.from([0, 0, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 1]);
  const question = Buffer.concat([qname, Buffer.from([0, 1, 0, 1])]);
  const answer = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 10, 0, 0, 1]);
  const fixed = header.length + question.length + answer.length + 11 + 4; // OPT RR + padding option header
  const pad = Math.max(0, size - fixed);
  const opt = Buffer.alloc(11 + 4 + pad);
  opt.writeUInt16BE(41, 1); // root owner, TYPE OPT
  opt.writeUInt16BE(1232, 3); // UDP payload size
  opt.writeUInt16BE(4 + pad, 9); // RDLENGTH
  opt.writeUInt16BE(12, 11); // option 12: Padding
  opt.writeUInt16BE(pad, 13);
  return Buffer.concat([header, question, answer, opt]);
}

/** The server itself (run as a script): a primary forking `workers` workers, each answering on the shared socket. */
async function serve(port, workers, size, io) {
  if (cluster.isPrimary && workers > 1) {
    for (let i = 0; i < workers; i++) cluster.fork();
    let stopping = false;
    const stop = () => {
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
      setTimeout(() => process.exit(0), 2000).unref();
      cluster.on('exit', () => { if (Object.values(cluster.workers ?? {}).every((w) => !w || w.isDead())) process.exit(0); });
    };
    cluster.on('exit', () => { if (!stopping) process.exit(1); });
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    return;
  }
  const answer = fixedAnswer(size);
  // The peer's address is an IP literal: returned at once, as tandem's sockets do (src/server/udp.ts literalLookup),
  // not checked and called back a tick later by dns.lookup per answer; the floor stays the cheapest dgram path.
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false, lookup: (address, _family, cb) => cb(null, address, 4) });
  if (io === 'batched') {
    const { batchedUdpIo, readBatched } = await import('../../dist/server/udpio.js');
    const { mod, why } = batchedUdpIo();
    if (!mod) throw new Error(`floor: no batched UDP: ${why}`);
    socket.bind(port, '127.0.0.1', () => {
      // The sink copies the answer into its batch at once: one buffer serves every answer.
      const batched = readBatched(socket, mod, (msg, peer, sink) => {
        if (msg.length < 2) return;
        answer[0] = msg[0];
        answer[1] = msg[1];
        sink.send(answer, peer);
      });
      if (!batched) throw new Error("floor: the socket's descriptor is not available");
      process.on('SIGTERM', () => { batched.close(); socket.close(() => process.exit(0)); });
    });
    return;
  }
  socket.on('message', (msg, rinfo) => {
    if (msg.length < 2) return;
    const out = Buffer.allocUnsafe(answer.length); // a fresh buffer per answer: send() is asynchronous
    answer.copy(out);
    out[0] = msg[0];
    out[1] = msg[1];
    socket.send(out, rinfo.port, rinfo.address);
  });
  socket.bind(port, '127.0.0.1');
  process.on('SIGTERM', () => socket.close(() => process.exit(0)));
}

/** True when a query to the floor gets a reply carrying its ID. */
export function floorAnswers(port, timeoutMs = 500) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const id = randomBytes(2);
    const q = Buffer.concat([id, Buffer.from([1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1])]);
    const done = (v) => { clearTimeout(t); s.close(); resolve(v); };
    const t = setTimeout(() => done(false), timeoutMs);
    s.on('message', (m) => { if (m[0] === id[0] && m[1] === id[1]) done(true); });
    s.on('error', () => done(false));
    s.send(q, port, '127.0.0.1');
  });
}

/**
 * The floor as a bench server (the interface of servers.mjs). start()'s answerBytes is the answer size (the
 * bench passes tandem's median (a) response size of the same run; 200 without one). Only (a) and (c) are measured.
 */
export function floor({ workers, io = 'dgram' }) {
  return {
    id: 'floor',
    label: `Node floor (${io})`,
    signing: `none: one fixed packet, query ID copied; ${io === 'batched' ? 'recvmmsg/sendmmsg through tandem\'s addon' : 'dgram'}`,
    io,
    workloads: ['pos-do', 'pos-nodo'],
    scale: false,
    workers,
    async available() { return undefined; },
    async prepare(dir) { mkdirSync(dir, { recursive: true }); return { prepareMs: 0 }; },
    async start(dir, port, { timeoutMs = 30_000, answerBytes } = {}) {
      const bytes = Math.max(60, Math.round(answerBytes ?? 200));
      this.answerBytes = bytes;
      const logPath = join(dir, 'floor.log');
      const fd = openSync(logPath, 'a');
      const t0 = performance.now();
      const handle = startDaemon('floor', process.execPath, [SELF, String(port), String(workers), String(bytes), io], { logFd: fd });
      closeSync(fd);
      handle.log = logPath;
      try {
        await waitFor(`floor on port ${port}`, () => floorAnswers(port), { timeoutMs, intervalMs: 100, abortIf: () => (handle.alive ? undefined : `exited (${JSON.stringify(handle.exitInfo)})`) });
        // every worker binds the shared socket; give the others a moment to join before measuring
        await new Promise((r) => setTimeout(r, 500));
      } catch (err) {
        await handle.stop();
        throw err;
      }
      return { handle, readyMs: performance.now() - t0 };
    },
  };
}

if (process.argv[1] === SELF) {
  const [port, workers, size] = process.argv.slice(2, 5).map(Number);
  const io = process.argv[5] ?? 'dgram';
  if (!Number.isInteger(port) || !Number.isInteger(workers) || !Number.isInteger(size) || !['dgram', 'batched'].includes(io)) {
    process.stderr.write('usage: node bench/lib/floor.mjs PORT WORKERS SIZE [dgram|batched]\n');
    process.exit(2);
  }
  serve(port, workers, size, io).catch((err) => {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  });
}
