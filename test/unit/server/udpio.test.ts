// Batched UDP I/O (src/server/udpio.ts, native/udpio.c): real sockets on loopback, the addon built by
// scripts/build-native.mjs (npm test runs it before vitest).
import dgram from 'node:dgram';
import { SocketAddress } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { BatchPeer, batchedUdpIo, readBatched, type DatagramSink } from '../../../src/server/udpio.js';
import { listenUdp, type UdpListener } from '../../../src/server/udp.js';
import type { Handler } from '../../../src/server/handle.js';
import { ConfigError, resolveConfig } from '../../../src/config/server.js';
import { parseIPv6 } from '../../../src/dns/rdata/ip.js';

const logger = pino({ level: 'silent' });
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function addon() {
  const a = batchedUdpIo();
  // The machine builds it (cc and Node's headers); a missing addon is a failure here, not a skip.
  expect(a.why, 'native/udpio.node should be built by scripts/build-native.mjs').toBeUndefined();
  return a.mod!;
}

async function client(type: 'udp4' | 'udp6' = 'udp4'): Promise<dgram.Socket> {
  const s = dgram.createSocket(type);
  await new Promise<void>((r) => s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => r()));
  cleanup.push(() => new Promise<void>((r) => s.close(() => r())));
  return s;
}

/** Collects `n` datagrams on `s` (or fewer by `ms`). */
function collect(s: dgram.Socket, n: number, ms = 5000): Promise<{ msg: Buffer; port: number }[]> {
  const got: { msg: Buffer; port: number }[] = [];
  return new Promise((resolve) => {
    const done = () => { clearTimeout(t); s.off('message', on); resolve(got); };
    const on = (msg: Buffer, r: dgram.RemoteInfo) => { got.push({ msg, port: r.port }); if (got.length >= n) done(); };
    const t = setTimeout(done, ms);
    s.on('message', on);
  });
}

/** A handler that echoes the query with the QR bit set: from `cached` for even first bytes, later for odd ones. */
function echoHandler(peers: string[]): Handler {
  const answer = (msg: Uint8Array) => { const o = Uint8Array.from(msg); o[2] |= 0x80; return o; };
  const h = (async (msg: Uint8Array, _t: unknown, peer?: { address: string; port: number }) => {
    peers.push(`${peer?.address}#${peer?.port}`);
    await new Promise((r) => setTimeout(r, 5));
    return answer(msg);
  }) as unknown as Handler;
  h.cached = (msg: Uint8Array, _t: unknown, peer?: { address: string; port: number }) => {
    if (msg[0] % 2 === 1) return undefined;
    peers.push(`${peer?.address}#${peer?.port}`);
    return answer(msg);
  };
  return h;
}

describe('a batched peer\'s address text', () => {
  // The addon's cells: the 16 bytes of sin6_addr read as four int32 on this (little-endian) host.
  const peer = (b: Uint8Array) => new BatchPeer(53, 6, ...(Array.from(new Int32Array(Uint8Array.from(b).buffer)) as [number, number, number, number]));
  it('is the text Node gives a peer (inet_ntop rules: longest zero run, first of equals, dotted IPv4 tails)', () => {
    const cases = ['::', '::1', '::2', '::ffff:1.2.3.4', '::1.2.3.4', '1::', '2001:db8::1', '2001:db8:0:0:1:0:0:1', 'fe80::1:0:0:0', '0:0:1::', '1:0:0:2:0:0:0:3', '::ffff:0:102:304', '1:2:3:4:5:6:7:8', '1:0:2:0:3:0:4:0'];
    for (const c of cases) {
      const node = new SocketAddress({ address: c, family: 'ipv6' }).address;
      expect(peer(parseIPv6(c)).address, c).toBe(node);
    }
  });
  it('matches Node for 2,000 random addresses with runs of zero groups', () => {
    for (let i = 0; i < 2000; i++) {
      const b = randomBytes(16);
      for (let g = 0; g < 8; g++) if (b[g] % 2 === 0) b.writeUInt16BE(0, g * 2);
      if (i % 10 === 0) { b.fill(0, 0, 10); b.writeUInt16BE(0xffff, 10); }
      const text = Array.from({ length: 8 }, (_, g) => b.readUInt16BE(g * 2).toString(16)).join(':');
      expect(peer(b).address, text).toBe(new SocketAddress({ address: text, family: 'ipv6' }).address);
    }
  });
  it('IPv4: the dotted quad of the cell\'s bytes', () => {
    expect(new BatchPeer(53, 4, new Int32Array(Uint8Array.of(192, 0, 2, 250).buffer)[0], 0, 0, 0).address).toBe('192.0.2.250');
  });
});

describe('batched listener (udp.ts with io batched)', () => {
  async function listen(io: 'batched' | 'dgram', host = '127.0.0.1', peers: string[] = []): Promise<UdpListener> {
    const l = await listenUdp({ host, port: 0 }, echoHandler(peers), logger, undefined, io);
    cleanup.push(() => l.close());
    return l;
  }

  it('answers every datagram of a burst, cached and later answers, to the port it came from', async () => {
    addon();
    const peers: string[] = [];
    const l = await listen('batched', '127.0.0.1', peers);
    expect(l.io).toBe('batched');
    const clients = await Promise.all([client(), client(), client()]);
    // Waves of 50 per client, 150 at once: a socket's default receive buffer holds some 250 small datagrams.
    const per = 300;
    const got: { msg: Buffer; port: number }[][] = clients.map(() => []);
    for (let start = 0; start < per; start += 50) {
      const waits = clients.map((c) => collect(c, 50));
      for (let i = start; i < start + 50; i++) {
        for (const c of clients) c.send(Buffer.from([i & 0xff, i >> 8, 0, 0, 0, 1]), l.address.port, '127.0.0.1');
      }
      (await Promise.all(waits)).forEach((g, k) => got[k].push(...g));
    }
    for (const [k, g] of got.entries()) {
      expect(g.length).toBe(per);
      const ids = new Set(g.map((x) => x.msg[0] | (x.msg[1] << 8)));
      expect(ids.size).toBe(per);
      expect(g.every((x) => (x.msg[2] & 0x80) !== 0 && x.port === l.address.port)).toBe(true);
      expect(peers.filter((p) => p === `127.0.0.1#${clients[k].address().port}`).length).toBe(per);
    }
    const s = l.batchedStats!();
    expect(s.received).toBe(3 * per);
    expect(s.sent).toBe(3 * per);
    // A burst is read in batches of more than one datagram (the point of it).
    expect(s.batches).toBeLessThan(s.received);
  });

  it('takes a 60,000-byte datagram whole and answers it', async () => {
    addon();
    const l = await listen('batched');
    const c = await client();
    const big = randomBytes(60_000);
    big[0] = 2;
    const wait = collect(c, 1);
    c.send(big, l.address.port, '127.0.0.1');
    const [g] = await wait;
    expect(g.msg.length).toBe(60_000);
    expect(g.msg.subarray(3).equals(big.subarray(3))).toBe(true);
  });

  it('serves IPv6 peers with the address text dgram gives', async () => {
    addon();
    const peers: string[] = [];
    const l = await listen('batched', '::1', peers);
    const c = await client('udp6');
    const wait = collect(c, 2);
    c.send(Buffer.from([2, 0, 0, 0]), l.address.port, '::1');
    c.send(Buffer.from([3, 0, 0, 0]), l.address.port, '::1');
    expect((await wait).length).toBe(2);
    expect(peers).toEqual([`::1#${c.address().port}`, `::1#${c.address().port}`]);
  });

  it('stops answering at close, and a closed listener leaves the port free', async () => {
    addon();
    const l = await listenUdp({ host: '127.0.0.1', port: 0 }, echoHandler([]), logger, undefined, 'batched');
    const port = l.address.port;
    await l.close();
    const c = await client();
    const wait = collect(c, 1, 300);
    c.send(Buffer.from([2, 0, 0, 0]), port, '127.0.0.1');
    expect(await wait).toEqual([]);
    const again = await listenUdp({ host: '127.0.0.1', port }, echoHandler([]), logger, undefined, 'batched');
    await again.close();
  });

  it('closes while datagrams keep coming and answers are still due: no crash, late answers dropped, the port reusable', async () => {
    addon();
    const l = await listenUdp({ host: '127.0.0.1', port: 0 }, echoHandler([]), logger, undefined, 'batched');
    const port = l.address.port;
    const c = await client();
    let sending = true, sent = 0;
    const pump = () => {
      if (!sending) return;
      for (let i = 0; i < 20; i++) c.send(Buffer.from([sent++ & 0xff, 0, 0, 0]), port, '127.0.0.1'); // odd first bytes: answered 5 ms later
      setImmediate(pump);
    };
    pump();
    await new Promise((r) => setTimeout(r, 100));
    const received = l.batchedStats!().received;
    expect(received).toBeGreaterThan(0);
    await l.close(); // answers of odd queries still pending (the handler waits 5 ms) are dropped
    await new Promise((r) => setTimeout(r, 50));
    sending = false;
    const again = await listenUdp({ host: '127.0.0.1', port }, echoHandler([]), logger, undefined, 'batched');
    const wait = collect(c, 1);
    c.send(Buffer.from([2, 0, 0, 0]), port, '127.0.0.1');
    expect((await wait).length).toBeGreaterThan(0);
    await again.close();
  });

  it('with io dgram reads through Node (no batches), the same answers', async () => {
    const l = await listen('dgram');
    expect(l.io).toBe('dgram');
    expect(l.batchedStats).toBeUndefined();
    const c = await client();
    const wait = collect(c, 50);
    for (let i = 0; i < 50; i++) c.send(Buffer.from([i, 0, 0, 0]), l.address.port, '127.0.0.1');
    expect((await wait).length).toBe(50);
  });
});

describe('readBatched', () => {
  it('sends an answer the kernel refuses through dgram, and the answers after it too', async () => {
    const mod = addon();
    const socket = dgram.createSocket('udp4');
    const errors: Error[] = [];
    socket.on('error', (e) => errors.push(e));
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const a = await client(), b = await client();
    const bogus = new BatchPeer(0, 4, 0x0100007f, 0, 0, 0); // 127.0.0.1 port 0: sendmmsg refuses it (EINVAL)
    const toPeer = (s: dgram.Socket) => new BatchPeer(s.address().port, 4, 0x0100007f, 0, 0, 0);
    const batched = readBatched(socket, mod, (msg, _peer, sink: DatagramSink) => {
      sink.send(Buffer.from('first'), toPeer(a));
      sink.send(Buffer.from('refused'), bogus);
      sink.send(Buffer.from('after'), toPeer(b));
    })!;
    expect(batched).toBeDefined();
    cleanup.push(() => new Promise<void>((r) => { batched.close(); socket.close(() => r()); }));
    const wa = collect(a, 1), wb = collect(b, 1);
    a.send(Buffer.from('go'), socket.address().port, '127.0.0.1');
    expect((await wa).map((x) => x.msg.toString())).toEqual(['first']);
    expect((await wb).map((x) => x.msg.toString())).toEqual(['after']);
    expect(batched.stats().sent).toBe(1); // 'first' by sendmmsg; 'refused' stopped it; the rest went through dgram
  });

  it('sends answers given after the batch (a later tick) in one go at the end of that tick', async () => {
    const mod = addon();
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const a = await client();
    const batched = readBatched(socket, mod, (msg, peer, sink) => {
      setTimeout(() => { for (let i = 0; i < 5; i++) sink.send(Buffer.from(`later ${i}`), peer); }, 10);
    })!;
    cleanup.push(() => new Promise<void>((r) => { batched.close(); socket.close(() => r()); }));
    const w = collect(a, 5);
    a.send(Buffer.from('go'), socket.address().port, '127.0.0.1');
    expect((await w).map((x) => x.msg.toString())).toEqual([0, 1, 2, 3, 4].map((i) => `later ${i}`));
    expect(batched.stats()).toEqual({ batches: 1, received: 1, sent: 5 });
  });

  it('keeps reading after a socket error (POLLERR, on which libuv stops polling): an ICMP port unreachable on a connected socket', async () => {
    const mod = addon();
    // An explicit port: a socket bound to port 0 loses its port when it disconnects (Linux udp_disconnect).
    const probe = await client();
    const port = probe.address().port;
    await new Promise<void>((r) => probe.close(() => r()));
    cleanup.pop();
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(port, '127.0.0.1', () => r()));
    const got: string[] = [];
    const batched = readBatched(socket, mod, (msg) => got.push(Buffer.from(msg).toString()))!;
    cleanup.push(() => new Promise<void>((r) => { batched.close(); socket.close(() => r()); }));
    // A port nobody listens on: the datagram sent there comes back as ICMP port unreachable, which on a connected
    // socket is a pending socket error (POLLERR).
    const gone = await client();
    const closedPort = gone.address().port;
    await new Promise<void>((r) => gone.close(() => r()));
    cleanup.pop();
    await new Promise<void>((r) => socket.connect(closedPort, '127.0.0.1', () => r()));
    socket.send(Buffer.from('to nobody'));
    await new Promise((r) => setTimeout(r, 100));
    socket.disconnect();
    const c = await client();
    c.send(Buffer.from('after the error'), port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 200));
    expect(got).toEqual(['after the error']);
  });

  it('refuses what is not a datagram socket descriptor, and bad calls, with errors, not crashes', () => {
    const mod = addon();
    const bufs = [new ArrayBuffer(mod.slots * mod.slot), new ArrayBuffer(mod.slots * mod.meta * 4), new ArrayBuffer(1024), new ArrayBuffer(32 * mod.meta * 4)] as const;
    expect(() => mod.open(0, () => {}, ...bufs)).toThrow(/not a datagram socket|cannot poll/); // stdin
    expect(() => mod.open(-1, () => {}, ...bufs)).toThrow(/descriptor/);
    expect(() => mod.open(0, () => {}, new ArrayBuffer(10), bufs[1], bufs[2], bufs[3])).toThrow(/too small/);
    expect(() => mod.send({}, 1)).toThrow(/closed/);
  });

  it('refuses an answer outside the out buffer', async () => {
    const mod = addon();
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
    const out = new ArrayBuffer(1024), outMeta = new Int32Array(mod.meta);
    const h = mod.open((socket as unknown as Record<symbol, { handle: { fd: number } }>)[Object.getOwnPropertySymbols(socket).find((s) => s.description === 'state symbol')!].handle.fd,
      () => {}, new ArrayBuffer(mod.slots * mod.slot), new ArrayBuffer(mod.slots * mod.meta * 4), out, outMeta.buffer);
    outMeta.set([1000, 100, 53, 4, 0x0100007f, 0, 0, 0, 0, 0]);
    expect(() => mod.send(h, 1)).toThrow(/out of range/);
    expect(() => mod.send(h, 2)).toThrow(/count out of range/);
    mod.close(h);
    expect(() => mod.send(h, 1)).toThrow(/closed/);
    await new Promise<void>((r) => socket.close(() => r()));
  });
});

describe('udp-io config', () => {
  it('takes auto, batched and dgram, and refuses anything else', async () => {
    expect((await resolveConfig({ 'udp-io': 'dgram' })).udpIo).toBe('dgram');
    expect((await resolveConfig({})).udpIo).toBe('auto');
    await expect(resolveConfig({ 'udp-io': 'fast' })).rejects.toThrow(ConfigError);
  });
});
