// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): 2-byte length framing, pipelined queries answered concurrently and
// possibly out of order (§6.2.1.1, §7), idle timeout (§6.2.3), a cap on connections so silent clients cannot
// exhaust the server.
import net from 'node:net';
import type { Logger } from 'pino';
import type { Endpoint } from '../config/server.js';
import type { Handler } from './handle.js';

export interface TcpOptions {
  idleTimeoutMs: number;
  maxConnections: number;
  /** Queries in flight per connection before we stop reading from it (back-pressure). */
  maxInFlight?: number;
}

export interface TcpListener {
  address: Endpoint;
  /** Stops accepting, lets in-flight answers finish (bounded by `graceMs`), then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

export function listenTcp(at: Endpoint, handler: Handler, opts: TcpOptions, logger: Logger): Promise<TcpListener> {
  const conns = new Map<net.Socket, { inFlight: number }>();
  const maxInFlight = opts.maxInFlight ?? 64;
  let closing = false;

  const server = net.createServer({ pauseOnConnect: false, noDelay: true }, (sock) => {
    if (conns.size >= opts.maxConnections) {
      sock.destroy();
      return;
    }
    const state = { inFlight: 0 };
    conns.set(sock, state);
    sock.setTimeout(opts.idleTimeoutMs, () => sock.destroy());
    let buf: Buffer = Buffer.alloc(0);
    const peer = { address: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 };
    /**
     * RFC 7766 §8: length and message in one write; resolves when the socket can take more (a zone transfer
     * sends its messages through here one by one: back-pressure, and a long transfer is not idleness).
     */
    const send = (resp: Uint8Array | null): Promise<void> | void => {
      if (!resp || sock.destroyed) return;
      sock.setTimeout(opts.idleTimeoutMs);
      const out = Buffer.allocUnsafe(2 + resp.length);
      out.writeUInt16BE(resp.length, 0);
      out.set(resp, 2);
      if (!sock.write(out)) return new Promise<void>((r) => { sock.once('drain', r); sock.once('close', r); });
    };

    const maybeEnd = () => {
      if (closing && state.inFlight === 0) sock.end();
    };
    sock.on('data', (chunk: Buffer) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      while (buf.length >= 2) {
        const len = buf.readUInt16BE(0);
        if (buf.length < 2 + len) break;
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        if (closing) continue;
        state.inFlight++;
        if (state.inFlight >= maxInFlight) sock.pause();
        handler(msg, 'tcp', peer, send)
          .then(send)
          .then(
          () => {
            state.inFlight--;
            if (sock.isPaused() && state.inFlight < maxInFlight) sock.resume();
            maybeEnd();
          },
          (err) => {
            state.inFlight--;
            logger.error({ err }, 'tcp handler failed');
            sock.destroy();
          },
        );
      }
    });
    sock.on('error', () => sock.destroy());
    sock.on('close', () => conns.delete(sock));
  });
  server.maxConnections = opts.maxConnections;

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: at.port, host: at.host, ipv6Only: at.host.includes(':') }, () => {
      server.off('error', reject);
      server.on('error', (err) => logger.error({ err }, 'tcp server error'));
      const a = server.address() as net.AddressInfo;
      resolve({
        address: { host: at.host, port: a.port },
        close: (graceMs = 5000) =>
          new Promise<void>((done) => {
            closing = true;
            server.close(() => done());
            for (const [sock, st] of conns) if (st.inFlight === 0) sock.end();
            const t = setTimeout(() => {
              for (const sock of conns.keys()) sock.destroy();
            }, graceMs);
            t.unref();
          }),
      });
    });
  });
}
