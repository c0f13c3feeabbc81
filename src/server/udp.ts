// DNS over UDP (RFC 1035 §4.2.1). One socket per listener; each datagram is answered independently.
import dgram from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { isIP, isIPv6 } from 'node:net';
import type { Logger } from 'pino';
import type { Endpoint } from '../config/server.js';
import type { Handler } from './handle.js';
import type { Rrl } from './rrl.js';

export interface UdpListener {
  address: Endpoint;
  close(): Promise<void>;
}

/** `rrl`: response rate limiting (rrl.ts), applied to every answer, cached or not; undefined: off (one check per answer). */
export function listenUdp(at: Endpoint, handler: Handler, logger: Logger, rrl?: Rrl): Promise<UdpListener> {
  const family = isIPv6(at.host) ? 6 : 4;
  const socket = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6, reuseAddr: false, lookup: literalLookup(family) });
  // No send callback: without one, libuv tries the send at once (uv_udp_try_send) instead of queueing it
  // and calling back into JS per datagram. A failed send of an answer is not reported (a client gone is
  // not our error; UDP is best effort, RFC 1035 §4.2.1).
  socket.on('message', (msg, rinfo) => {
    // A cached answer is sent in the same tick: no promise, no parsing (respcache.ts).
    // rinfo is the peer ({address, port, ...}): passed as it is, no object made per datagram.
    const hit = handler.cached(msg, 'udp', rinfo);
    if (hit) {
      const out = rrl === undefined ? hit : rrl.filter(hit, rinfo.address);
      if (out) socket.send(out, rinfo.port, rinfo.address);
      return;
    }
    handler(msg, 'udp', rinfo).then(
      (resp) => {
        const out = rrl === undefined || !resp ? resp : rrl.filter(resp, rinfo.address);
        if (out) socket.send(out, rinfo.port, rinfo.address);
      },
      (err) => logger.error({ err }, 'udp handler failed'),
    );
  });
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(at.port, at.host, () => {
      socket.off('error', reject);
      socket.on('error', (err) => logger.error({ err }, 'udp socket error'));
      const a = socket.address();
      resolve({
        address: { host: at.host, port: a.port },
        close: () => new Promise<void>((r) => socket.close(() => r())),
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
