// RFC 9824 compact denial as dig sees it, and what DO=1 does to answers: RRSIGs only with DO, truncation rather
// than stripping, and every RRSIG the server sends verifies with an independent implementation (@noble/curves).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packetTyped from 'dns-packet';

// dns-packet's RDATA encoders (packet.dnskey, packet.rrsig, ...) exist at run time but not in its type definitions.
const packet = packetTyped as typeof packetTyped & Record<string, { encode(data: unknown): Buffer }>;
import { dig } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { udpExchange, tcpExchange } from '../helpers/client.js';
import { encodeQuery } from '../../src/dns/message.js';
import { Name } from '../../src/dns/name.js';
import { RRType } from '../../src/dns/types.js';
import { verifyRrsigNoble } from '../../src/dnssec/signer.js';

let s: TestServer;
const t = () => ({ host: s.host, port: s.port });

beforeAll(async () => {
  s = await startTestServer();
});
afterAll(() => s?.stop());

describe('RFC 9824 compact denial, decided by dig', () => {
  it('§3.1: a nonexistent name with DO=1 is NOERROR with one NSEC at the name: next \\000.<name>, RRSIG NSEC NXNAME', async () => {
    const r = await dig(t(), ['+norec', '+dnssec', 'nope.example.com', 'A']);
    expect(r.status).toBe('NOERROR');
    const nsec = r.authority.filter((x) => x.type === 'NSEC');
    expect(nsec).toHaveLength(1);
    expect(nsec[0].name).toBe('nope.example.com.');
    expect(nsec[0].data).toMatch(/^\\000\.nope\.example\.com\. RRSIG NSEC (NXNAME|TYPE128)$/);
    expect(r.authority.filter((x) => x.type === 'RRSIG').map((x) => x.data.split(' ')[0]).sort()).toEqual(['NSEC', 'SOA']);
  });

  it('§5.1: with the CO flag the rcode is NXDOMAIN and CO is echoed', async () => {
    // dig 9.18 cannot set the CO bit, so this query is built by hand (EDNS flags DO | CO = 0xc000).
    const raw = (await udpExchange(s.host, s.port, encodeQuery(Name.fromText('nope.example.com.'), RRType.A, { id: 5, do: true, co: true })))!;
    const p = packet.decode(raw) as packetTyped.DecodedPacket & { rcode: string };
    expect(p.rcode).toBe('NXDOMAIN');
    expect(p.authorities!.some((a) => a.type === 'NSEC')).toBe(true);
    const opt = p.additionals!.find((a) => a.type === 'OPT') as unknown as { flags: number };
    expect(opt.flags & 0xc000).toBe(0xc000);
  });

  it('§5: a query without DO gets a plain NXDOMAIN without DNSSEC records', async () => {
    const r = await dig(t(), ['+norec', 'nope.example.com', 'A']);
    expect(r.status).toBe('NXDOMAIN');
    expect(r.authority.map((x) => x.type)).toEqual(['SOA']);
  });

  it('§3.2: NODATA lists the types at the name plus RRSIG and NSEC', async () => {
    const r = await dig(t(), ['+norec', '+dnssec', 'www.example.com', 'MX']);
    const nsec = r.authority.find((x) => x.type === 'NSEC')!;
    expect(nsec.data).toBe('\\000.www.example.com. A AAAA RRSIG NSEC');
  });

  it('§3.5: a query for the NXNAME meta-type is FORMERR with EDE 30', async () => {
    const r = await dig(t(), ['+norec', '+dnssec', 'nope.example.com', 'TYPE128']);
    expect(r.status).toBe('FORMERR');
    expect(r.ede ?? r.raw).toMatch(/30/);
  });

  it('§3.3: a wildcard answer is signed as an exact match (labels = the query name\'s)', async () => {
    const r = await dig(t(), ['+norec', '+dnssec', 'a.b.wild.example.com', 'A']);
    const sig = r.answer.find((x) => x.type === 'RRSIG')!;
    expect(sig.data.split(' ')[2]).toBe('5');
    expect(r.authority.filter((x) => x.type === 'NSEC')).toHaveLength(0);
  });

  it('§3.4: an unsigned referral carries an NSEC at the cut, next sub\\000, without DS', async () => {
    const r = await dig(t(), ['+norec', '+dnssec', 'www.insecure.example.com', 'A']);
    const nsec = r.authority.find((x) => x.type === 'NSEC')!;
    expect(nsec.name).toBe('insecure.example.com.');
    expect(nsec.data).toBe('insecure\\000.example.com. NS RRSIG NSEC');
  });
});

describe('DO bit (RFC 3225, RFC 4035 §3.1.1)', () => {
  it('RRSIGs only when DO=1; the DO bit is echoed', async () => {
    const plain = await dig(t(), ['+norec', 'www.example.com', 'A']);
    expect(plain.answer.some((x) => x.type === 'RRSIG')).toBe(false);
    const signed = await dig(t(), ['+norec', '+dnssec', 'www.example.com', 'A']);
    expect(signed.answer.some((x) => x.type === 'RRSIG')).toBe(true);
    expect(signed.ednsFlags).toContain('do');
  });

  it('a DO=1 answer too big for the client is truncated (TC=1), never sent without its signatures', async () => {
    const r = await dig(t(), ['+norec', '+dnssec', '+bufsize=512', '+ignore', 'big.example.com', 'TXT']);
    expect(r.flags).toContain('tc');
    expect(r.answer).toHaveLength(0);
    const tcp = await dig(t(), ['+norec', '+dnssec', '+tcp', 'big.example.com', 'TXT']);
    expect(tcp.answer.filter((x) => x.type === 'TXT')).toHaveLength(8);
    expect(tcp.answer.filter((x) => x.type === 'RRSIG')).toHaveLength(1);
  });
});

describe('every RRSIG the server sends verifies with @noble/curves', () => {
  it.each([
    ['www.example.com.', 'A'], ['alias.example.com.', 'A'], ['x.wild.example.com.', 'TXT'], ['nope.example.com.', 'A'],
    ['www.example.com.', 'MX'], ['example.com.', 'DNSKEY'], ['example.com.', 'SOA'], ['sub.example.com.', 'DS'],
    ['b.deep.example.com.', 'A'], ['www.insecure.example.com.', 'A'],
  ])('%s %s', async (name, type) => {
    const q = encodeQuery(Name.fromText(name), RRType[type as keyof typeof RRType], { id: 1, do: true });
    const [raw] = await tcpExchange(s.host, s.port, [q]);
    const dnskeyRaw = (await udpExchange(s.host, s.port, encodeQuery(Name.fromText('example.com.'), RRType.DNSKEY, { id: 2, do: true })))!;
    const keys = packet.decode(dnskeyRaw).answers!.filter((a) => a.type === 'DNSKEY').map((a) => packet['dnskey'].encode((a as unknown as { data: object }).data).subarray(2));
    const p = packet.decode(raw);
    const rrs = [...(p.answers ?? []), ...(p.authorities ?? [])];
    const sigs = rrs.filter((r) => r.type === 'RRSIG');
    expect(sigs.length).toBeGreaterThan(0);
    for (const sig of sigs) {
      const data = (sig as unknown as { data: { typeCovered: string } }).data;
      const covered = rrs.filter((r) => r.type === data.typeCovered && r.name.toLowerCase() === sig.name.toLowerCase());
      const rrset = {
        name: Name.fromText(sig.name + '.'), type: RRType[data.typeCovered as keyof typeof RRType], class: 1, ttl: (covered[0] as { ttl: number }).ttl,
        rdatas: covered.map((c) => packet[c.type.toLowerCase()].encode((c as unknown as { data: unknown }).data).subarray(2)),
      };
      const rrsigRdata = packet['rrsig'].encode(data).subarray(2);
      expect(keys.some((k) => verifyRrsigNoble(rrsigRdata, rrset, k)), `${sig.name} RRSIG ${data.typeCovered}`).toBe(true);
    }
  });
});
