// Zone transfer plumbing for tests: a TCP exchange that reads a multi-message answer (RFC 5936 §2.2, RFC 7766
// framing) until the caller says it is complete. Knot as a transfer peer: knot-xfr.ts.
import net from 'node:net';

/**
 * Sends `query` over TCP and collects answer messages until `done(msg, all)` is true, the server closes, or
 * `timeoutMs` passes (then it rejects, quoting how many messages came).
 */
export function tcpStream(host: string, port: number, query: Uint8Array, done: (msg: Uint8Array, all: Uint8Array[]) => boolean, timeoutMs = 20_000): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const out: Uint8Array[] = [];
    const sock = net.connect(port, host);
    let buf = Buffer.alloc(0);
    let finished = false;
    const finish = (err?: Error) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err); else resolve(out);
    };
    const timer = setTimeout(() => finish(new Error(`tcpStream: no end after ${timeoutMs} ms (${out.length} messages)`)), timeoutMs);
    sock.on('connect', () => {
      const len = Buffer.alloc(2);
      len.writeUInt16BE(query.length);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const msg = new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + msg.length);
        out.push(msg);
        if (done(msg, out)) return finish();
      }
    });
    sock.on('close', () => finish());
    sock.on('error', (e) => finish(e));
  });
}
