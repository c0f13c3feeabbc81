// The server core, decided by real clients (dig, kdig) over real sockets against the shipped example zone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig, kdig, requireTool, type DigResult } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { decode, tcpExchange, udpExchange } from '../helpers/client.js';
import { encodeQuery } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';

let s: TestServer;
const t = () => ({ host: s.host, port: s.port });
const q = (args: string[]) => dig(t(), ['+norec', ...args]);
const datas = (r: DigResult['answer']) => r.map((x) => x.data).sort();

beforeAll(async () => {
  requireTool('dig', 'bind9-dnsutils');
  requireTool('kdig', 'knot-dnsutils');
  s = await startTestServer({ listen: [{ host: '127.0.0.1', port: 0 }] });
});
afterAll(() => s?.stop());

describe('answers (RFC 1034 §4.3.2), decided by dig', () => {
  it('exact match: AA set, the A RRset', async () => {
    const r = await q(['www.example.com', 'A']);
    expect(r.status).toBe('NOERROR');
    expect(r.flags).toContain('aa');
    expect(datas(r.answer)).toEqual(['192.0.2.1']);
  });

  it('CNAME chain followed inside the zone (§4.3.2 step 3a)', async () => {
    const r = await q(['alias.example.com', 'A']);
    expect(r.answer.map((x) => `${x.name} ${x.type} ${x.data}`)).toEqual([
      'alias.example.com. CNAME www2.example.com.',
      'www2.example.com. CNAME www.example.com.',
      'www.example.com. A 192.0.2.1',
    ]);
  });

  it('CNAME to an out-of-zone name stops at the CNAME', async () => {
    const r = await q(['ext.example.com', 'A']);
    expect(r.status).toBe('NOERROR');
    expect(r.answer.map((x) => x.type)).toEqual(['CNAME']);
  });

  it('RFC 4592: wildcard synthesis with the query name as owner', async () => {
    const r = await q(['Foo.Bar.wild.example.com', 'A']);
    expect(r.answer).toHaveLength(1);
    expect(r.answer[0].name).toBe('Foo.Bar.wild.example.com.');
    expect(r.answer[0].data).toBe('192.0.2.80');
  });

  it('RFC 4592 §2.2.2: an empty non-terminal is NODATA, not NXDOMAIN', async () => {
    const r = await q(['b.deep.example.com', 'A']);
    expect(r.status).toBe('NOERROR');
    expect(r.answer).toHaveLength(0);
    expect(r.authority.map((x) => x.type)).toEqual(['SOA']);
  });

  it('delegation: referral with NS in authority, glue in additional, AA clear', async () => {
    const r = await q(['www.sub.example.com', 'A']);
    expect(r.status).toBe('NOERROR');
    expect(r.flags).not.toContain('aa');
    expect(r.answer).toHaveLength(0);
    expect(r.authority.map((x) => `${x.name} ${x.type} ${x.data}`)).toContain('sub.example.com. NS ns1.sub.example.com.');
    expect(r.additional.map((x) => `${x.name} ${x.type}`).sort()).toEqual(['ns1.sub.example.com. A', 'ns1.sub.example.com. AAAA']);
  });

  it('RFC 4035 §3.1.4.1: DS at a delegation point is answered from the parent side', async () => {
    const r = await q(['sub.example.com', 'DS']);
    expect(r.flags).toContain('aa');
    expect(r.answer.map((x) => x.type)).toEqual(['DS']);
  });

  it('RFC 2308 §5: NXDOMAIN with the SOA in authority, TTL = min(SOA TTL, MINIMUM)', async () => {
    const r = await q(['nope.example.com', 'A']);
    expect(r.status).toBe('NXDOMAIN');
    expect(r.flags).toContain('aa');
    expect(r.authority).toHaveLength(1);
    expect(r.authority[0].type).toBe('SOA');
    expect(r.authority[0].ttl).toBe(300);
  });

  it('NODATA: NOERROR, empty answer, SOA in authority', async () => {
    const r = await q(['www.example.com', 'MX']);
    expect(r.status).toBe('NOERROR');
    expect(r.answer).toHaveLength(0);
    expect(r.authority.map((x) => x.type)).toEqual(['SOA']);
  });

  it('REFUSED for a name under no served zone, without AA', async () => {
    const r = await q(['example.org', 'A']);
    expect(r.status).toBe('REFUSED');
    expect(r.flags).not.toContain('aa');
  });

  it('additional-section processing for MX and SRV targets in the zone', async () => {
    const mx = await q(['example.com', 'MX']);
    expect(mx.additional.map((x) => x.name)).toContain('mail.example.com.');
    const srv = await q(['_sip._tcp.example.com', 'SRV']);
    expect(srv.additional.map((x) => `${x.name} ${x.type}`)).toContain('sip.example.com. A');
  });

  it('RFC 8482: ANY gets a minimal synthesized HINFO, not the whole node', async () => {
    const r = await q(['example.com', 'ANY']);
    expect(r.answer.map((x) => x.type)).toEqual(['HINFO']);
    expect(r.answer[0].data).toContain('RFC8482');
  });

  it('matching is case-insensitive and the question case is kept', async () => {
    const r = await q(['WwW.ExAmPlE.CoM', 'A']);
    expect(r.raw).toContain(';WwW.ExAmPlE.CoM.');
    expect(r.answer[0].name).toBe('WwW.ExAmPlE.CoM.');
  });

  it('RFC 6672: DNAME answered with a synthesized CNAME', async () => {
    const r = await q(['host.old.example.com', 'A']);
    expect(r.answer.map((x) => `${x.name} ${x.type} ${x.data}`)).toEqual([
      'old.example.com. DNAME example.net.',
      'host.old.example.com. CNAME host.example.net.',
    ]);
  });

  it('RFC 3597: an unknown type is served in generic form', async () => {
    const r = await q(['unknown.example.com', 'TYPE65400']);
    expect(r.answer[0].data).toBe('\\# 4 0A000001');
  });

  it('kdig agrees: A answer and NXDOMAIN', async () => {
    const a = await kdig(t(), ['www.example.com', 'A']);
    expect(a.status).toBe('NOERROR');
    expect(datas(a.answer)).toEqual(['192.0.2.1']);
    const n = await kdig(t(), ['nope.example.com', 'A']);
    expect(n.status).toBe('NXDOMAIN');
  });
});

describe('protocol (RFC 1035, RFC 6891, RFC 7766)', () => {
  it('RFC 6891: OPT echoed with our 1232 payload size', async () => {
    const r = await q(['www.example.com', 'A']);
    expect(r.udp).toBe(1232);
  });

  it('RFC 6891 §6.1.3: EDNS version 1 gets BADVERS', async () => {
    const r = await q(['+edns=1', '+noednsnegotiation', 'www.example.com', 'A']);
    expect(r.status).toBe('BADVERS');
  });

  it('RFC 1035 §4.1.1: an unimplemented opcode gets NOTIMP', async () => {
    const r = await q(['+opcode=status', 'www.example.com', 'A']);
    expect(r.status).toBe('NOTIMP');
  });

  it('RFC 2181 §9: a response over the client limit is TC=1 over UDP and whole over TCP', async () => {
    const udp = await q(['+bufsize=512', '+ignore', 'big.example.com', 'TXT']);
    expect(udp.flags).toContain('tc');
    expect(udp.answer).toHaveLength(0);
    const noedns = await q(['+noedns', '+ignore', 'big.example.com', 'TXT']);
    expect(noedns.flags).toContain('tc');
    const tcp = await q(['+tcp', '+bufsize=512', 'big.example.com', 'TXT']);
    expect(tcp.flags).not.toContain('tc');
    expect(tcp.answer).toHaveLength(8);
  });

  it('a TXT string over 255 octets is served as several character-strings', async () => {
    const r = await q(['+tcp', 'sel1._domainkey.example.com', 'TXT']);
    expect(r.answer).toHaveLength(1);
    expect(r.answer[0].data.match(/" "/g)?.length).toBe(1);
  });

  it('RFC 1035 §4.1.4: responses use name compression', async () => {
    const raw = await udpExchange(s.host, s.port, encodeQuery(Name.fromText('example.com.'), 15, { id: 7 }));
    expect(raw).toBeDefined();
    // The MX exchange names point back into the question: no second full copy of "example.com".
    const text = raw!.toString('latin1');
    expect(text.split('example').length - 1).toBe(1);
  });

  it('QDCOUNT other than 1 is FORMERR; QR=1 packets are ignored', async () => {
    const query = Buffer.from(encodeQuery(Name.fromText('www.example.com.'), 1, { id: 99 }));
    const two = Buffer.from(query);
    two.writeUInt16BE(2, 4);
    const formerr = await udpExchange(s.host, s.port, two);
    expect(formerr && decode(formerr).rcode).toBe('FORMERR');
    const resp = Buffer.from(query);
    resp[2] |= 0x80;
    expect(await udpExchange(s.host, s.port, resp, 500)).toBeUndefined();
  });

  it('200 malformed packets leave it answering, over UDP and TCP', async () => {
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const valid = Buffer.from(encodeQuery(Name.fromText('www.example.com.'), 1));
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      const p = Buffer.from(valid.subarray(0, Math.floor(rnd() * valid.length * 1.5)));
      for (let j = 0; j < p.length; j++) if (rnd() < 0.2) p[j] = Math.floor(rnd() * 256);
      sends.push(udpExchange(s.host, s.port, p, 200));
    }
    await Promise.all(sends);
    await tcpExchange(s.host, s.port, [Buffer.from([0xff, 0xff, 0, 1, 2]), Buffer.from([1])], 1, 300).catch(() => []);
    expect(datas((await q(['www.example.com', 'A'])).answer)).toEqual(['192.0.2.1']);
    expect(datas((await q(['+tcp', 'www.example.com', 'A'])).answer)).toEqual(['192.0.2.1']);
  });

  it('RFC 7766 §6.2.1.1: pipelined TCP queries on one connection are all answered', async () => {
    const names = ['www', 'mail', 'sip', 'ssh'];
    const msgs = names.map((n, i) => encodeQuery(Name.fromText(`${n}.example.com.`), 1, { id: 100 + i }));
    const answers = (await tcpExchange(s.host, s.port, msgs)).map(decode);
    expect(answers.map((a) => a.id).sort()).toEqual([100, 101, 102, 103]);
    for (const a of answers) expect(a.answers?.[0]?.type).toBe('A');
  });
});

describe('listeners', () => {
  it('serves IPv6 and IPv4 listeners, UDP and TCP on each', async () => {
    const v6 = await startTestServer({ listen: [{ host: '::1', port: 0 }, { host: '127.0.0.1', port: 0 }] });
    try {
      for (const a of v6.server.addresses) {
        for (const tr of [[], ['+tcp']]) {
          const r = await dig(a, ['+norec', ...tr, 'www.example.com', 'AAAA']);
          expect(datas(r.answer)).toEqual(['2001:db8::1']);
        }
      }
    } finally {
      await v6.stop();
    }
  });

  it('RFC 7766 §6.2.3: idle TCP connections are closed, and silent clients cannot exhaust the server', async () => {
    const small = await startTestServer({ config: { tcpIdleTimeoutMs: 300, tcpMaxConnections: 4 } });
    try {
      const net = await import('node:net');
      const socks = Array.from({ length: 8 }, () => net.connect(small.port, small.host));
      const closed = socks.map((sock) => new Promise<number>((r) => { const t0 = Date.now(); sock.on('close', () => r(Date.now() - t0)); sock.on('error', () => undefined); }));
      const times = await Promise.all(closed);
      expect(Math.max(...times)).toBeLessThan(3000);
      // Over the cap some were refused at once; after the idle ones close, TCP answers again.
      const r = await dig({ host: small.host, port: small.port }, ['+norec', '+tcp', 'www.example.com', 'A']);
      expect(datas(r.answer)).toEqual(['192.0.2.1']);
    } finally {
      await small.stop();
    }
  });
});

describe('RFC 9471 glue', () => {
  it('§3: in-domain glue that does not fit sets TC; over TCP the referral has all of it', async () => {
    const g = await startTestServer({ zones: 'test/fixtures/glue' });
    try {
      const udp = await dig({ host: g.host, port: g.port }, ['+norec', '+bufsize=512', '+ignore', 'www.big.glue.test', 'A']);
      expect(udp.flags).toContain('tc');
      const tcp = await dig({ host: g.host, port: g.port }, ['+norec', '+tcp', 'www.big.glue.test', 'A']);
      expect(tcp.flags).not.toContain('tc');
      expect(tcp.authority.filter((x) => x.type === 'NS')).toHaveLength(20);
      expect(tcp.additional.filter((x) => x.type === 'A' || x.type === 'AAAA')).toHaveLength(40);
    } finally {
      await g.stop();
    }
  });
});
