// Response rate limiting (server/rrl.ts): classification of real answers of the request path, the token-bucket
// accounting with a fake clock (rate, window, slip), prefixes, exemptions, log-only mode, the bounded table
// and the log lines. The behaviour follows BIND's `rate-limit` (ARM "Response Rate Limiting") and Knot's mod-rrl.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { pino } from 'pino';
import { encodeQuery } from '../../../src/dns/message.js';
import { Name } from '../../../src/dns/name.js';
import { RRType } from '../../../src/dns/types.js';
import { createHandler } from '../../../src/server/handle.js';
import { classify, newClassified, parseV6, Rrl, truncated, wildcardParentIn } from '../../../src/server/rrl.js';
import { parseRrl, rrlDefaults, type RrlConfig } from '../../../src/config/rrl.js';
import { ConfigError, resolveConfig } from '../../../src/config/server.js';
import { decode } from '../../helpers/client.js';
import { useExampleManager } from '../../helpers/manager.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const T0 = 1_800_000_000;
const ex = useExampleManager(T0);
const silent = pino({ level: 'silent' });

/** The request path's answer (no response cache) to NAME TYPE, as bytes. */
async function answer(name: string, type: number = RRType.A, o: { do?: boolean } = {}): Promise<Uint8Array> {
  const handler = createHandler(() => ex.manager.served(), silent, { clock: ex.clock, cache: false });
  const r = await handler(Buffer.from(encodeQuery(Name.fromText(name), type, { udpSize: 1232, do: o.do ?? false })), 'udp');
  return r!;
}
const cls = (resp: Uint8Array) => {
  const c = newClassified();
  expect(classify(resp, c)).toBe(true);
  return { cls: ['positive', 'nxdomain', 'nodata', 'referral', 'error'][c.cls], key: `${c.h[0]}/${c.h[1]}`, nameOff: c.nameOff };
};

const clockAt = (t = T0) => ({ t, now() { return this.t; } });
const limiter = (cfg: Partial<RrlConfig> = {}, clock = clockAt(), logger = silent, wildcardParent?: (resp: Uint8Array, nameKey: number) => number) =>
  ({ rrl: new Rrl({ ...rrlDefaults, exempt: [], responsesPerSecond: 5, ...cfg }, { clock, logger, wildcardParent }), clock });
/** Sends `n` copies of `resp` to `address` through the limiter: what came out of each. */
const burst = (rrl: Rrl, resp: Uint8Array, address: string, n: number) => {
  const out = { full: 0, tc: 0, dropped: 0 };
  for (let i = 0; i < n; i++) {
    const r = rrl.filter(resp, address);
    if (r === null) out.dropped++;
    else if (r === resp) out.full++;
    else out.tc++;
  }
  return out;
};

describe('rrl: response classes (BIND ARM "Response Rate Limiting")', () => {
  it('positive answers are keyed by name and type; the name without regard to case (RFC 4343)', async () => {
    const a = cls(await answer('www.example.com.'));
    expect(a.cls).toBe('positive');
    expect(cls(await answer('WWW.Example.COM.')).key).toBe(a.key);
    expect(cls(await answer('www.example.com.', RRType.AAAA)).key).not.toBe(a.key);
    expect(cls(await answer('example.com.')).key).not.toBe(a.key);
  });

  it('NXDOMAIN is keyed by the zone (the SOA owner), so random names share one account', async () => {
    const a = cls(await answer('nx-1.example.com.'));
    expect(a.cls).toBe('nxdomain');
    expect(cls(await answer('nx-2.example.com.', RRType.TXT)).key).toBe(a.key);
    expect(cls(await answer('deep.nx-3.example.com.')).key).toBe(a.key);
  });

  it('RFC 9824 §3: compact denial\'s NOERROR with NXNAME counts as NXDOMAIN, with the same account', async () => {
    const plain = cls(await answer('nx-1.example.com.'));
    const compact = await answer('nx-1.example.com.', RRType.A, { do: true });
    expect(decode(Buffer.from(compact)).rcode).toBe('NOERROR');
    expect(cls(compact)).toEqual({ ...plain, nameOff: expect.any(Number) });
  });

  it('NODATA is keyed by the name, whatever the type; compact denial\'s NODATA (no NXNAME bit) stays NODATA', async () => {
    const a = cls(await answer('www.example.com.', RRType.MX));
    expect(a.cls).toBe('nodata');
    expect(cls(await answer('www.example.com.', RRType.SRV)).key).toBe(a.key);
    expect(cls(await answer('www.example.com.', RRType.MX, { do: true })).cls).toBe('nodata');
    expect(cls(await answer('mail.example.com.', RRType.MX)).key).not.toBe(a.key);
  });

  it('RFC 1034 §4.3.2: a referral is keyed by the delegation', async () => {
    const a = cls(await answer('host.sub.example.com.'));
    expect(a.cls).toBe('referral');
    expect(cls(await answer('other.sub.example.com.', RRType.AAAA)).key).toBe(a.key);
  });

  it('RFC 4035 §5.3.2: an answer whose RRSIG has fewer labels than its name (a wildcard) is keyed by the wildcard\'s parent', async () => {
    // tandem signs each expansion as its own name (labels = the name's count), so its own wildcard answers are
    // keyed per name, unsigned or signed (documented); a pre-signed zone's (or another signer's) RRSIG shows it.
    const wire = async (name: string) => Buffer.from(await answer(name, RRType.A, { do: true }));
    const asPresigned = (b: Buffer) => {
      const at = b.indexOf(Buffer.from([0xc0, 0x0c, 0x00, 0x2e])); // the RRSIG at the question name
      expect(b[at + 15]).toBe(4);
      b[at + 15] = 3; // RRSIG labels of *.wild.example.com. (RFC 4034 §3.1.3)
      return b;
    };
    const one = cls(asPresigned(await wire('one.wild.example.com.')));
    expect(one.cls).toBe('positive');
    expect(cls(asPresigned(await wire('two.wild.example.com.'))).key).toBe(one.key);
    expect(cls(await wire('one.wild.example.com.')).key).not.toBe(cls(await wire('two.wild.example.com.')).key);
  });

  it('errors (REFUSED, FORMERR, ...) are keyed by nothing but the client', async () => {
    const a = cls(await answer('example.org.'));
    expect(a.cls).toBe('error');
    expect(cls(await answer('other.example.net.', RRType.MX)).key).toBe(a.key);
  });

  it('RFC 1035 §4.1.1: queries and answers to other opcodes (NOTIFY) are left alone', async () => {
    const resp = Buffer.from(await answer('www.example.com.'));
    const c = newClassified();
    resp[2] = (resp[2] & 0x87) | (4 << 3);
    expect(classify(resp, c)).toBe(false);
    resp[2] &= 0x7f;
    expect(classify(resp, c)).toBe(false);
  });
});

describe('rrl: accounting per client prefix (token bucket with a window)', () => {
  it('the first `rate` answers in a second go out, the rest are limited; the next second earns `rate` credits', async () => {
    const resp = await answer('www.example.com.');
    const { rrl, clock } = limiter({ slip: 0, window: 1 });
    expect(burst(rrl, resp, '192.0.2.1', 5)).toEqual({ full: 5, tc: 0, dropped: 0 });
    expect(burst(rrl, resp, '192.0.2.1', 3)).toEqual({ full: 0, tc: 0, dropped: 3 });
    clock.t += 2; // the balance (at most -window x rate) earns 2 x rate: back to the cap
    expect(burst(rrl, resp, '192.0.2.1', 7)).toEqual({ full: 5, tc: 0, dropped: 2 });
    expect(rrl.counts.dropped[0]).toBe(5);
  });

  it('a cluster worker\'s table has 1/N of each rate (`share`): two workers that each see half a burst let the rate through, not twice it', async () => {
    const resp = await answer('www.example.com.');
    const clock = clockAt();
    const worker = () => new Rrl({ ...rrlDefaults, exempt: [], responsesPerSecond: 6, slip: 0, window: 1 }, { clock, logger: silent, share: 1 / 2 });
    const [a, b] = [worker(), worker()];
    const full = () => burst(a, resp, '192.0.2.1', 20).full + burst(b, resp, '192.0.2.1', 20).full;
    expect(full()).toBe(6); // one table alone (share 1) lets 6 through, two of them 12
    clock.t += 2;
    expect(full()).toBe(6);
    // A rate of one a second over two workers: each account still holds one response (a share of 0.5 alone would
    // limit every first response), and earns half a response a second.
    const slow = () => new Rrl({ ...rrlDefaults, exempt: [], responsesPerSecond: 1, slip: 0, window: 1 }, { clock, logger: silent, share: 1 / 2 });
    const c = slow();
    expect(burst(c, resp, '192.0.2.9', 3).full).toBe(1);
    clock.t += 1;
    expect(burst(c, resp, '192.0.2.9', 1).full).toBe(0); // -1 + 0.5: still limited
    clock.t += 4;
    expect(burst(c, resp, '192.0.2.9', 3).full).toBe(1);
  });

  it('BIND "window": a flood is remembered for `window` seconds after it stops', async () => {
    const resp = await answer('www.example.com.');
    const { rrl, clock } = limiter({ slip: 0, window: 10 });
    for (let s = 0; s < 20; s++, clock.t++) burst(rrl, resp, '192.0.2.1', 50);
    const stopped = clock.t;
    clock.t = stopped + 9;
    expect(rrl.filter(resp, '192.0.2.1')).toBeNull();
    clock.t = stopped + 11;
    expect(rrl.filter(resp, '192.0.2.1')).toBe(resp);
  });

  it('slip 2: every second limited answer goes out truncated (TC=1, question and OPT only), the others are dropped', async () => {
    const resp = await answer('www.example.com.', RRType.A, { do: true });
    const { rrl } = limiter({ slip: 2 });
    burst(rrl, resp, '192.0.2.1', 5);
    expect(burst(rrl, resp, '192.0.2.1', 10)).toEqual({ full: 0, tc: 5, dropped: 5 });
    expect(rrl.counts.slipped[0]).toBe(5);
    let slipped: Uint8Array | null = null;
    for (let i = 0; i < 4 && (slipped === null || slipped === resp); i++) slipped = rrl.filter(resp, '192.0.2.1');
    expect(slipped).not.toBeNull();
    expect(Buffer.from(slipped!).equals(Buffer.from(truncated(resp)))).toBe(true);
    const m = decode(Buffer.from(slipped!));
    expect(m.flags! & 0x0200).toBe(0x0200); // TC
    expect(m.questions![0]).toMatchObject({ name: 'www.example.com', type: 'A' });
    expect(m.answers).toHaveLength(0);
    expect(m.authorities).toHaveLength(0);
    expect(m.additionals!.map((r) => r.type)).toEqual(['OPT']);
  });

  it('slip 0 drops every limited answer; slip 1 truncates every one', async () => {
    const resp = await answer('www.example.com.');
    const none = limiter({ slip: 0 }).rrl;
    burst(none, resp, '192.0.2.1', 5);
    expect(burst(none, resp, '192.0.2.1', 6)).toEqual({ full: 0, tc: 0, dropped: 6 });
    const all = limiter({ slip: 1 }).rrl;
    burst(all, resp, '192.0.2.1', 5);
    expect(burst(all, resp, '192.0.2.1', 6)).toEqual({ full: 0, tc: 6, dropped: 0 });
  });

  it('a /24 shares one account, another /24 has its own', async () => {
    const resp = await answer('www.example.com.');
    const { rrl } = limiter({ slip: 0 });
    expect(burst(rrl, resp, '192.0.2.1', 3).full).toBe(3);
    expect(burst(rrl, resp, '192.0.2.200', 3)).toEqual({ full: 2, tc: 0, dropped: 1 });
    expect(burst(rrl, resp, '198.51.100.7', 5).full).toBe(5);
    // An IPv4-mapped IPv6 address is the IPv4 client (RFC 4291 §2.5.5.2).
    expect(rrl.filter(resp, '::ffff:192.0.2.9')).toBeNull();
  });

  it('a /56 shares one IPv6 account', async () => {
    const resp = await answer('www.example.com.');
    const { rrl } = limiter({ slip: 0 });
    expect(burst(rrl, resp, '2001:db8:0:1ff::1', 5).full).toBe(5);
    expect(rrl.filter(resp, '2001:db8:0:100:1:2:3:4')).toBeNull();
    expect(rrl.filter(resp, '2001:db8:0:200::1')).toBe(resp);
  });

  it('each class has its own account and rate; 0 leaves a class unlimited', async () => {
    const pos = await answer('www.example.com.');
    const nx = await answer('nx.example.com.');
    const { rrl } = limiter({ slip: 0, nxdomainsPerSecond: 2, errorsPerSecond: 0 });
    expect(burst(rrl, nx, '192.0.2.1', 4)).toEqual({ full: 2, tc: 0, dropped: 2 });
    expect(burst(rrl, pos, '192.0.2.1', 5).full).toBe(5);
    expect(burst(rrl, await answer('example.org.'), '192.0.2.1', 50).full).toBe(50);
    expect(rrl.counts.dropped[1]).toBe(2);
  });

  it('a random-subdomain flood from one prefix is cut to the NXDOMAIN rate (one account for the zone)', async () => {
    const { rrl } = limiter({ slip: 0, nxdomainsPerSecond: 3 });
    let sent = 0;
    for (let i = 0; i < 30; i++) if (rrl.filter(await answer(`r${i}.example.com.`, RRType.A, { do: true }), '192.0.2.1')) sent++;
    expect(sent).toBe(3);
  });

  it('RFC 4592: answers synthesized from a wildcard share the wildcard parent\'s account (BIND), signed or not', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
    const { rrl } = limiter({ slip: 0 }, clockAt(), logger, wildcardParentIn(() => ex.manager.served()));
    let sent = 0;
    for (let i = 0; i < 20; i++) if (rrl.filter(await answer(`r${i}.wild.example.com.`, RRType.A, { do: i % 2 === 0 }), '192.0.2.1')) sent++;
    expect(sent).toBe(5);
    expect(lines[0]).toMatchObject({ msg: 'rrl: limiting responses', class: 'positive', name: 'wild.example.com.' });
    // A synthesized name seen before goes to the parent's account through its pointer; an existing name keeps its own.
    expect(rrl.filter(await answer('r1.wild.example.com.'), '192.0.2.1')).toBeNull();
    expect(rrl.filter(await answer('www.example.com.'), '192.0.2.1')).not.toBeNull();
    // Without the zone to ask, each synthesized name has its own account.
    const plain = limiter({ slip: 0 }).rrl;
    sent = 0;
    for (let i = 0; i < 20; i++) if (plain.filter(await answer(`r${i}.wild.example.com.`), '192.0.2.1')) sent++;
    expect(sent).toBe(20);
  });

  it('exempt prefixes are never limited', async () => {
    const resp = await answer('www.example.com.');
    const { rrl } = limiter({ slip: 0, exempt: ['192.0.2.0/24', '::1'] });
    expect(burst(rrl, resp, '192.0.2.1', 50).full).toBe(50);
    expect(burst(rrl, resp, '::1', 50).full).toBe(50);
    expect(burst(rrl, resp, '192.0.3.1', 50).full).toBe(5);
    // RFC 4291 §2.5.5.2: an IPv4-mapped address is the IPv4 client, exempt by its IPv4 prefix.
    expect(burst(limiter({ slip: 0, exempt: ['192.0.2.0/24'] }).rrl, resp, '::ffff:192.0.2.9', 50).full).toBe(50);
  });

  it('log-only: every answer goes out in full, and what would have been limited is counted', async () => {
    const resp = await answer('www.example.com.');
    const { rrl } = limiter({ slip: 2, logOnly: true });
    expect(burst(rrl, resp, '192.0.2.1', 20)).toEqual({ full: 20, tc: 0, dropped: 0 });
    expect(rrl.counts.logOnly[0]).toBe(15);
    expect(rrl.counts.dropped[0] + rrl.counts.slipped[0]).toBe(0);
  });
});

describe('rrl: bounded table', () => {
  it('a flood of spoofed sources never grows the table past table-size, and a limited account survives it', async () => {
    const resp = await answer('www.example.com.');
    const { rrl } = limiter({ slip: 0, tableSize: 100 });
    burst(rrl, resp, '192.0.2.1', 10);
    for (let i = 0; i < 20_000; i++) {
      rrl.filter(resp, `10.${(i >> 8) & 0xff}.${i & 0xff}.1`);
      if (i % 50 === 0) expect(rrl.filter(resp, '192.0.2.1')).toBeNull(); // the victim's account is in use
    }
    expect(rrl.size).toBe(100);
  });
});

describe('rrl: logs', () => {
  it('one line when limiting starts, a summary while it lasts, one line with the totals when it stops; never one per query', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
    const resp = await answer('nx.example.com.');
    const { rrl, clock } = limiter({ slip: 2, window: 5 }, clockAt(), logger);
    burst(rrl, resp, '192.0.2.1', 1000);
    // Another address of the /24 and another random name: the same account (the zone's), no new line.
    burst(rrl, await answer('nx2.example.com.'), '192.0.2.77', 1000);
    expect(lines.map((l) => l.msg)).toEqual(['rrl: limiting responses']);
    expect(lines[0]).toMatchObject({ client: '192.0.2.0/24', class: 'nxdomain', name: 'example.com.', rate: 5 });
    clock.t += 60;
    burst(rrl, resp, '192.0.2.1', 100);
    rrl.sweep();
    expect(lines.at(-1)).toMatchObject({ msg: 'rrl: limiting continues', client: '192.0.2.0/24', dropped: 1045, slipped: 1045 });
    clock.t += 6;
    rrl.sweep();
    expect(lines.at(-1)).toMatchObject({ msg: 'rrl: limiting stopped', client: '192.0.2.0/24', class: 'nxdomain', dropped: 1045, slipped: 1045, seconds: 60 });
    expect(lines).toHaveLength(3);
  });

  it('log-only says so', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (s: string) => { lines.push(JSON.parse(s) as Record<string, unknown>); } });
    const { rrl } = limiter({ logOnly: true }, clockAt(), logger);
    burst(rrl, await answer('www.example.com.'), '2001:db8:0:100::1', 10);
    expect(lines).toEqual([expect.objectContaining({ msg: 'rrl: would limit responses (log-only)', client: '2001:db8:0:100::/56', class: 'positive', name: 'www.example.com.', logOnly: true })]);
  });
});

describe('rrl: any bytes', () => {
  it('classify, truncated and filter never throw or loop on arbitrary messages and addresses (seeded)', () => {
    const { rrl } = limiter({ responsesPerSecond: 1, slip: 1 });
    const c = newClassified();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 40 })), (b, address) => {
        classify(b, c);
        const t = truncated(b);
        expect(t.length).toBeLessThanOrEqual(Math.max(b.length, 12) + 11);
        rrl.filter(b, address);
      }),
      { seed: 20261204, numRuns: 3000 },
    );
  });
});

describe('rrl: addresses and config', () => {
  it('RFC 4291 §2.2: IPv6 text forms', () => {
    const g = new Uint16Array(8);
    const v6 = (s: string) => (parseV6(s, g) ? Array.from(g, (x) => x.toString(16)).join(':') : 'bad');
    expect(v6('2001:db8::1')).toBe('2001:db8:0:0:0:0:0:1');
    expect(v6('::1')).toBe('0:0:0:0:0:0:0:1');
    expect(v6('::')).toBe('0:0:0:0:0:0:0:0');
    expect(v6('fe80::1%eth0')).toBe('fe80:0:0:0:0:0:0:1');
    expect(v6('::ffff:192.0.2.1')).toBe('0:0:0:0:0:ffff:c000:201');
    expect(v6('1:2:3:4:5:6:7:8')).toBe('1:2:3:4:5:6:7:8');
    expect(v6('1::2::3')).toBe('bad');
    expect(v6('1:2:3')).toBe('bad');
  });

  it('rrl: a number, a mapping, or off; bad keys and values name the key', () => {
    expect(parseRrl(10, 'f')).toMatchObject({ responsesPerSecond: 10, slip: 2, window: 15, ipv4Prefix: 24, ipv6Prefix: 56 });
    expect(parseRrl('off', 'f')).toBeUndefined();
    expect(parseRrl({ 'responses-per-second': 5, 'nxdomains-per-second': 1, slip: 0, exempt: ['127.0.0.0/8', '::1'], 'log-only': true }, 'f'))
      .toMatchObject({ responsesPerSecond: 5, nxdomainsPerSecond: 1, slip: 0, exempt: ['127.0.0.0/8', '::1'], logOnly: true });
    expect(() => parseRrl({ slip: 11 }, 'f')).toThrow(/rrl.slip' must be an integer 0..10/);
    expect(() => parseRrl({ rate: 1 }, 'f')).toThrow(/unknown rrl setting 'rate'/);
    expect(() => parseRrl({ exempt: ['10.0.0.0/33'] }, 'f')).toThrow(/bad exempt prefix/);
  });

  it('--rrl RATE sets the rate of the config file\'s rrl: and keeps the rest; off by default', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tandem-rrl-'));
    try {
      const file = join(dir, 'c.yaml');
      await writeFile(file, 'rrl:\n  responses-per-second: 5\n  slip: 0\n  window: 3\n');
      expect((await resolveConfig({}, file)).rrl).toMatchObject({ responsesPerSecond: 5, slip: 0, window: 3 });
      expect((await resolveConfig({ rrl: '9' }, file)).rrl).toMatchObject({ responsesPerSecond: 9, slip: 0, window: 3 });
      expect((await resolveConfig({ rrl: 'off' }, file)).rrl).toBeUndefined();
      expect((await resolveConfig({})).rrl).toBeUndefined();
      await expect(resolveConfig({ rrl: 'lots' })).rejects.toThrow(ConfigError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
