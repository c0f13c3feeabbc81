// DNS over UDP (RFC 1035 §4.2.1). One socket per listener; each datagram is answered independently.
import dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
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
  const socket = dgram.createSocket({ type: isIPv6(at.host) ? 'udp6' : 'udp4', ipv6Only: isIPv6(at.host), reuseAddr: false });
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
