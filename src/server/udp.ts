// DNS over UDP (RFC 1035 §4.2.1). One socket per listener; each datagram is answered independently.
import dgram from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { Endpoint } from '../config/server.js';
import type { Handler } from './handle.js';
import type { Rrl } from './rrl.js';
import type { Peer } from '../transfer/service.js';
import { batchedUdpIo, readBatched, type DatagramSink, type UdpIoMode } from './udpio.js';

export interface UdpListener {
  address: Endpoint;
  /** How it reads and answers (udpio.ts). */
  io: 'batched' | 'dgram';
  /** With `batched`: batches and datagrams read, answers sent by the addon. */
  batchedStats?: () => { batches: number; received: number; sent: number };
  close(): Promise<void>;
}

/** Whether this process said why `udp-io auto` fell back to dgram (once is enough). */
let toldWhy = false;

/**
 * `rrl`: response rate limiting (rrl.ts), applied to every answer, cached or not; undefined: off (one check per answer).
 * `io`: how datagrams are read and answers sent (udpio.ts): batched by the addon where it loads (`auto`), or
 * required (`batched`: the listener fails without it), or Node's dgram, one call per datagram (`dgram`).
 */
export function listenUdp(at: Endpoint, handler: Handler, logger: Logger, rrl?: Rrl, io: UdpIoMode = 'auto'): Promise<UdpListener> {
  const family = isIPv6(at.host) ? 6 : 4;
  const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, reuseAddr: false, lookup: literalLookup(family) });
  const onDatagram = (msg: Uint8Array, peer: Peer, sink: DatagramSink) => {
    // A cached answer is sent in the same tick: no promise, no parsing (respcache.ts).
    const hit = handler.cached(msg, 'udp', peer);
    if (hit) {
      const out = rrl === undefined ? hit : rrl.filter(hit, peer.address);
      if (out) sink.send(out, peer);
      return;
    }
    handler(msg, 'udp', peer).then(
      (resp) => {
        const out = rrl === undefined || !resp ? resp : rrl.filter(resp, peer.address);
        if (out) sink.send(out, peer);
      },
      (err) => logger.error({ err }, 'udp handler failed'),
    );
  };
  // No send callback: without one, libuv tries the send at once (uv_udp_try_send) instead of queueing it
  // and calling back into JS per datagram. A failed send of an answer is not reported (a client gone is
  // not our error; UDP is best effort, RFC 1035 §4.2.1).
  const direct: DatagramSink = { send: (out, peer) => socket.send(out, peer.port, peer.address) };
  // rinfo is the peer ({address, port, ...}): passed as it is, no object made per datagram.
  socket.on('message', (msg, rinfo) => onDatagram(msg, rinfo, direct));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(at.port, at.host, () => {
      socket.off('error', reject);
      socket.on('error', (err) => logger.error({ err }, 'udp socket error'));
      const addon = io === 'dgram' ? undefined : batchedUdpIo();
      const batched = addon?.mod && readBatched(socket, addon.mod, onDatagram);
      if (io === 'batched' && !batched) {
        socket.close();
        reject(new Error(`udp-io batched: ${addon?.why ?? "the socket's descriptor is not available"}; or serve with --udp-io auto (dgram where batches are not available)`));
        return;
      }
      const a = socket.address();
      if (!batched && io === 'auto' && !toldWhy) {
        // Once per process: why `auto` reads with dgram (the listening line says `"udpIo":"dgram"`).
        toldWhy = true;
        logger.info({ why: addon?.why ?? "the socket's descriptor is not available" }, 'udp-io auto: reading UDP with dgram, one call per datagram');
      }
      resolve({
        address: { host: at.host, port: a.port },
        io: batched ? 'batched' : 'dgram',
        batchedStats: batched ? () => batched.stats() : undefined,
        close: () => {
          batched?.close();
          return new Promise<void>((r) => socket.close(() => r()));
        },
      });
    });
  });
}

/**
 * The socket's address lookup (dgram calls it for the bind and for every datagram sent). An answer goes to the
 * address its query came from, an IP literal from the kernel: it is returned at once. dns.lookup would check the
 * literal too, then call back on the next tick, once per answer (measured, same run, 10k-name zone, --workers 2:
 * 10-15 % more answers per second for random names, about as much for cached ones). A host name (a listen
 * address) is looked up by dns.lookup as before.
 */
export function literalLookup(family: 4 | 6) {
  return (address: string, options: number | LookupOneOptions, callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void): void => {
    if (isIP(address) === family) callback(null, address, family);
    else dnsLookup(address, options as LookupOneOptions, callback);
  };
}
