#!/usr/bin/env node
// One side of the flood measurement (flood.mjs), run as its own process so the flood and the probe do not share an
// event loop:
//   flood: random-subdomain queries (DO=1, a fresh random 12-character label under the zone each time) at a fixed
//          offered rate from several source addresses, token bucket refilled every ~1 ms; answers are counted by
//          kind but never awaited (a spoofed flood does not wait either);
//   probe: queries for existing names (DO=1) at a steady rate from 127.0.0.1; an answer counts as correct when it
//          is NOERROR, not truncated, and holds the A record and its RRSIG; latency per correct answer.
// Argument: one JSON object. Output: one JSON line on stdout. Every loop is bounded by `seconds` (+1 s for late answers).
import dgram from 'node:dgram';
import { randomBytes } from 'node:crypto';

const opt = JSON.parse(process.argv[2]);
const { role, port, seconds } = opt;
const host = opt.host ?? '127.0.0.1';
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** The wire name of `labels` (array of strings) + QTYPE A, QCLASS IN + OPT (UDP 1232, DO=1). */
function template(labels) {
  const parts = [Buffer.from([0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1])]; // id, flags 0 (RD clear), QD=1, AR=1
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'ascii'));
  parts.push(Buffer.from([0, 0, 1, 0, 1]));
  parts.push(Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0x80, 0, 0, 0])); // OPT: root, type 41, 1232, DO
  return Buffer.concat(parts);
}

function bind(address) {
  return new Promise((resolve, reject) => {
    // A large receive buffer (net.core.rmem_max permitting): answers lost here would count against the server.
    const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 4 << 20 });
    s.once('error', reject);
    s.bind(0, address, () => { s.off('error', reject); s.on('error', () => {}); resolve(s); });
  });
}

/** xorshift32 seeded from the CSPRNG: cheap per-packet randomness for labels and IDs. */
function rng() {
  let x = randomBytes(4).readUInt32LE(0) || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function flood() {
  const sockets = await Promise.all(opt.sources.map(bind));
  const origin = opt.origin.replace(/\.$/, '').split('.');
  const tpl = template(['x'.repeat(12), ...origin]);
  const rnd = rng();
  const counts = { sent: 0, answers: 0, truncated: 0, rcodes: {} };
  for (const s of sockets) {
    s.on('message', (m) => {
      counts.answers++;
      if (m[2] & 0x02) counts.truncated++;
      const rc = m[3] & 0x0f;
      counts.rcodes[rc] = (counts.rcodes[rc] ?? 0) + 1;
    });
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const cap = Math.max(1, Math.ceil(opt.rate / 50)); // never more than 20 ms' worth in one burst
  while (performance.now() < end) {
    const due = Math.floor((opt.rate * (performance.now() - t0)) / 1000) - counts.sent;
    for (let i = 0, n = Math.min(due, cap); i < n; i++) {
      const b = Buffer.allocUnsafe(tpl.length);
      tpl.copy(b);
      const r = rnd();
      b[0] = r >>> 24; b[1] = (r >>> 16) & 0xff;
      for (let k = 0; k < 12; k++) b[13 + k] = ALPHABET.charCodeAt((rnd() >>> 8) % 36);
      sockets[counts.sent % sockets.length].send(b, port, host);
      counts.sent++;
    }
    await sleep(1);
  }
  const elapsed = (performance.now() - t0) / 1000;
  await sleep(500);
  const cpu = process.cpuUsage(cpu0);
  for (const s of sockets) s.close();
  return { ...counts, seconds: elapsed, sentPerSec: counts.sent / elapsed, cpuPercent: ((cpu.user + cpu.system) / 1e4) / elapsed };
}

async function probe() {
  const sock = await bind(opt.source ?? '127.0.0.1');
  const origin = opt.origin.replace(/\.$/, '').split('.');
  const tpls = opt.names.map((n) => template([n, ...origin]));
  const pending = new Map(); // id -> sent at (ms)
  const lat = [];
  const out = { sent: 0, correct: 0, truncated: 0, wrong: 0, late: 0 };
  sock.on('message', (m) => {
    const id = m.readUInt16BE(0);
    const at = pending.get(id);
    if (at === undefined) { out.late++; return; }
    pending.delete(id);
    const tc = (m[2] & 0x02) !== 0, rcode = m[3] & 0x0f, an = m.readUInt16BE(6);
    if (tc) out.truncated++;
    else if (rcode === 0 && an >= 2) { out.correct++; lat.push(performance.now() - at); }
    else out.wrong++;
  });
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  let seq = 0;
  while (performance.now() < end) {
    const now = performance.now();
    // Answers not back within timeoutMs are lost (a resolver would have given up on them).
    for (const [id, at] of pending) if (now - at > opt.timeoutMs) pending.delete(id);
    const due = Math.floor((opt.rate * (now - t0)) / 1000) - out.sent;
    for (let i = 0; i < Math.min(due, 50); i++) {
      const id = seq++ & 0xffff;
      const b = Buffer.from(tpls[out.sent % tpls.length]);
      b.writeUInt16BE(id, 0);
      pending.set(id, performance.now());
      sock.send(b, port, host);
      out.sent++;
    }
    await sleep(2);
  }
  await sleep(opt.timeoutMs);
  sock.close();
  lat.sort((a, b) => a - b);
  const pct = (p) => (lat.length ? lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] : null);
  return { ...out, lost: out.sent - out.correct - out.truncated - out.wrong, answeredFraction: out.sent ? out.correct / out.sent : 0, p50Ms: pct(50), p99Ms: pct(99) };
}

const result = role === 'flood' ? await flood() : await probe();
process.stdout.write(JSON.stringify(result) + '\n');
