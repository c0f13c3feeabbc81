// A small raw DNS client over real sockets, for what dig cannot send (malformed packets, pipelining).
import dgram from 'node:dgram';
import net from 'node:net';
import packet from 'dns-packet';

export function udpExchange(host: string, port: number, msg: Uint8Array, timeoutMs = 1000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(undefined);
    }, timeoutMs);
    sock.on('message', (m) => {
      clearTimeout(timer);
      sock.close();
      resolve(m);
    });
    sock.send(msg, port, host);
  });
}

/** Sends several messages on one TCP connection in one write (pipelining) and collects `expect` answers. */
export function tcpExchange(host: string, port: number, msgs: Uint8Array[], expect = msgs.length, timeoutMs = 3000): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, host);
    const answers: Buffer[] = [];
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(answers);
    }, timeoutMs);
    sock.on('connect', () => {
      sock.write(Buffer.concat(msgs.map((m) => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(m.length);
        return Buffer.concat([len, m]);
      })));
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        answers.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (answers.length >= expect) {
        clearTimeout(timer);
        sock.destroy();
        resolve(answers);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

export function decode(buf: Buffer): packet.Packet & { rcode?: string } {
  return packet.decode(buf) as packet.Packet & { rcode?: string };
}
