// TSIG (RFC 8945) with real peers on loopback:
//  - dig -y and kdig -y as clients of tandem decide that signed answers verify, and read BADSIG, BADKEY and BADTIME;
//  - `tandem tsig-keygen` output: its YAML part configures `tandem serve`, its BIND part works with `dig -k`, its
//    -y part with dig, its Knot part with knotd;
//  - multi-message streams: dnspython's dns.query.xfr verifies a ~3000-record AXFR that TsigSigner signs (some
//    messages unsigned in between), and TsigVerifier + the message reader verify knotd's signed AXFR.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dig, kdig, requireTool } from '../helpers/dig.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { serve, tandem, type ServeProcess } from '../helpers/cli.js';
import { tcpStream } from '../helpers/xfr.js';
import { startKnotXfr, type KnotXfr } from '../helpers/knot-xfr.js';
import { runCommand } from '../helpers/procs.js';
import { EXAMPLE_ZONES } from '../helpers/zones.js';
import { Name } from '../../src/dns/name.js';
import { readMessage, type Message } from '../../src/dns/reader.js';
import { RRType } from '../../src/dns/types.js';
import { encodeQuery, encodeResponse } from '../../src/dns/writer.js';
import { parseRdata } from '../../src/dns/rdata.js';
import { generateSecret, Keyring, signRequest, TsigError, type TsigKey } from '../../src/dns/tsig.js';
import { parseKeyFile } from '../../src/config/tsig.js';
import { tsigCheck } from '../../src/server/tsig.js';
import type { Rr } from '../../src/dns/rr.js';

process.env.PATH = `${process.env.PATH}:/usr/sbin`;
const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../fixtures/tsig.py', import.meta.url));
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const now = () => Math.floor(Date.now() / 1000);
const read = (wire: Uint8Array): Message => {
  const r = readMessage(wire);
  if (!r.ok) throw new Error(r.error.reason);
  return r.message;
};

beforeAll(() => {
  requireTool('dig', 'bind9-dnsutils');
  requireTool('kdig', 'knot-dnsutils');
});

describe('dig -y and kdig -y as clients of tandem', () => {
  const key: TsigKey = { name: Name.fromText('xfr-key.'), algorithm: 'hmac-sha256', secret: generateSecret('hmac-sha256') };
  const y = `hmac-sha256:xfr-key:${b64(key.secret)}`;
  const legacy: TsigKey = { name: Name.fromText('legacy.'), algorithm: 'hmac-sha1', secret: generateSecret('hmac-sha1') };
  const clock = { skew: 0, now() { return now() + this.skew; } };
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ config: { tsig: [key, legacy] }, clock });
  });
  afterAll(() => s.stop());

  it('RFC 8945 §4.3.2: a signed query gets a signed answer dig verifies (TSIG pseudosection, no verify failure)', async () => {
    clock.skew = 0;
    for (const transport of ['+notcp', '+tcp']) {
      const r = await dig(s, ['-y', y, transport, '+dnssec', 'www.example.com', 'A']);
      expect(r.status).toBe('NOERROR');
      expect(r.answer.some((a) => a.type === 'A')).toBe(true);
      expect(r.raw).toMatch(/;; TSIG PSEUDOSECTION:\nxfr-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 32 \S+ \d+ NOERROR 0/);
      expect(r.raw).not.toMatch(/tsig verify failure|could not be validated|Couldn't verify/i);
    }
  });

  it('RFC 8945 §4.3.2: kdig verifies the signed answer too (no reply verification warning)', async () => {
    clock.skew = 0;
    // kdig writes verification warnings to stderr.
    const r = await runCommand('kdig', ['@127.0.0.1', '-p', String(s.port), '+retry=0', '+timeout=3', '-y', y, 'www.example.com', 'A']);
    expect(r.stdout).toMatch(/status: NOERROR/);
    expect(r.stdout).toMatch(/;; TSIG PSEUDOSECTION:/);
    expect(r.stderr).not.toMatch(/WARNING: reply verification/);
    // ... and it does check: the same query with a wrong secret gets a warning there.
    const bad = await runCommand('kdig', ['@127.0.0.1', '-p', String(s.port), '+retry=0', '+timeout=3', '-y', `hmac-sha256:xfr-key:${b64(generateSecret('hmac-sha256'))}`, 'www.example.com', 'A']);
    expect(bad.stderr).toMatch(/WARNING: reply verification/);
  });

  it('RFC 8945 §5.2.2: a wrong secret gets NOTAUTH with BADSIG, unsigned (MAC size 0)', async () => {
    clock.skew = 0;
    const r = await dig(s, ['-y', `hmac-sha256:xfr-key:${b64(generateSecret('hmac-sha256'))}`, 'www.example.com', 'A']);
    expect(r.status).toBe('NOTAUTH');
    expect(r.raw).toMatch(/TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADSIG 0/);
    expect(r.raw).toMatch(/Some TSIG could not be validated/); // what the first test's negative check looks for
    const k = await kdig(s, ['-y', `hmac-sha256:xfr-key:${b64(generateSecret('hmac-sha256'))}`, 'www.example.com', 'A']);
    expect(k.status).toBe('BADSIG');
  });

  it('RFC 8945 §5.2.1: an unknown key gets NOTAUTH with BADKEY; so does the right name with another algorithm', async () => {
    clock.skew = 0;
    const r = await dig(s, ['-y', `hmac-sha256:nobody:${b64(key.secret)}`, 'www.example.com', 'A']);
    expect(r.status).toBe('NOTAUTH');
    expect(r.raw).toMatch(/nobody\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADKEY 0/);
    const alg = await kdig(s, ['-y', `hmac-sha512:xfr-key:${b64(key.secret)}`, 'www.example.com', 'A']);
    expect(alg.status).toBe('BADKEY');
  });

  it('RFC 8945 §5.2.3: with the server clock 1000 s ahead, BADTIME, signed: dig and kdig verify the MAC, then report the clocks', async () => {
    clock.skew = 1000;
    try {
      const r = await dig(s, ['-y', y, 'www.example.com', 'A']);
      expect(r.status).toBe('NOTAUTH');
      expect(r.raw).toMatch(/TSIG\s+hmac-sha256\. \d+ 300 32 \S+ \d+ BADTIME 6 /);
      expect(r.raw).toMatch(/clocks are unsynchronized/); // BIND's "MAC verified, time off" (DNS_R_CLOCKSKEW)
      // kdig writes its verdict to stderr: "TSIG out of time window" once the MAC verified, else "failed to verify TSIG".
      const k = await runCommand('kdig', ['@127.0.0.1', '-p', String(s.port), '+retry=0', '+timeout=3', '-y', y, 'www.example.com', 'A']);
      expect(k.stdout).toMatch(/status: BADTIME/);
      expect(k.stderr).toMatch(/TSIG out of time window/);
      expect(k.stderr).not.toMatch(/failed to verify/);
    } finally {
      clock.skew = 0;
    }
  });

  it('hmac-sha1 (old peers) works with dig -y', async () => {
    const r = await dig(s, ['-y', `hmac-sha1:legacy:${b64(legacy.secret)}`, 'www.example.com', 'A']);
    expect(r.status).toBe('NOERROR');
    expect(r.raw).not.toMatch(/could not be validated|Couldn't verify/i);
  });

  it('a signed UDP answer too large for the client gets TC=1, still signed and verified by dig', async () => {
    const r = await dig(s, ['-y', y, '+ignore', '+bufsize=512', 'big.example.com', 'TXT']);
    expect(r.flags).toContain('tc');
    expect(r.raw).toMatch(/;; TSIG PSEUDOSECTION:/);
    expect(r.raw).not.toMatch(/could not be validated|Couldn't verify/i);
  });
});

/** The sections of `tandem tsig-keygen` output, by the first word of their comment line. */
function sections(out: string): Record<string, string> {
  const parts: Record<string, string> = {};
  for (const block of out.trim().split(/\n\n+/)) {
    const [head, ...body] = block.split('\n');
    parts[/^# (\S+)/.exec(head)![1].replace(/:$/, '')] = body.join('\n');
  }
  return parts;
}

describe('tandem tsig-keygen', () => {
  let dir: string;
  let gen: Record<string, string>;
  let p: ServeProcess | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tandem-keygen-'));
    const r = await tandem(['tsig-keygen', 'xfr-key', '--algorithm', 'hmac-sha512']);
    expect(r.code).toBe(0);
    gen = sections(r.stdout);
  });
  afterAll(async () => {
    if (p && p.child.exitCode === null) p.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('prints one key in four forms that tandem\'s parser reads back as the same key', () => {
    expect(Object.keys(gen)).toEqual(['tandem', 'BIND', 'Knot', 'dig']);
    const [y] = parseKeyFile(gen.tandem, 'yaml');
    const [b] = parseKeyFile(gen.BIND, 'bind');
    expect([y.name.toString(), y.algorithm, y.secret.length]).toEqual(['xfr-key.', 'hmac-sha512', 64]);
    expect([b.name.toString(), b.algorithm, b64(b.secret)]).toEqual(['xfr-key.', 'hmac-sha512', b64(y.secret)]);
    expect(gen.dig).toBe(`hmac-sha512:xfr-key:${b64(y.secret)}`);
    expect(gen.Knot).toContain(`secret: ${b64(y.secret)}`);
  });

  it('the YAML part configures `tandem serve`; dig -y with the printed -y form and dig -k with the BIND part verify its answers', async () => {
    await writeFile(join(dir, 'tandem.yaml'), `${gen.tandem}\n`);
    await writeFile(join(dir, 'xfr-key.conf'), `${gen.BIND}\n`);
    p = await serve(['--config', join(dir, 'tandem.yaml'), '--zones', EXAMPLE_ZONES, '--state', join(dir, 'state'), '--workers', '1']);
    for (const args of [['-y', gen.dig], ['-k', join(dir, 'xfr-key.conf')]]) {
      const r = await dig({ host: '127.0.0.1', port: p.port }, [...args, 'www.example.com', 'A']);
      expect(r.status).toBe('NOERROR');
      expect(r.raw).toMatch(/TSIG\s+hmac-sha512\. \d+ 300 64 /);
      expect(r.raw).not.toMatch(/could not be validated|Couldn't verify/i);
    }
  });

  it('the Knot part passes `knotc conf-check`', async () => {
    const conf = join(dir, 'knot.conf');
    await writeFile(conf, `server:\n    rundir: "${dir}"\n\n${gen.Knot}\n`);
    const r = await runCommand('knotc', ['-c', conf, 'conf-check']);
    expect(r.code, r.stderr).toBe(0);
  });
});

/** A fake zone of `n` A records between two SOAs, in messages of `perMessage` records (RFC 5936 §2.2). */
function fakeAxfr(zone: Name, n: number, perMessage: number): Rr[][] {
  const soa: Rr = { name: zone, type: RRType.SOA, class: 1, ttl: 300, rdata: parseRdata(RRType.SOA, 'ns1 hostmaster 1 3600 600 86400 300', zone) };
  const all: Rr[] = [soa];
  for (let i = 0; i < n; i++) all.push({ name: Name.fromText(`h${i}`, zone), type: RRType.A, class: 1, ttl: 300, rdata: parseRdata(RRType.A, `10.0.${(i >> 8) & 255}.${i & 255}`, zone) });
  all.push(soa);
  const out: Rr[][] = [];
  for (let i = 0; i < all.length; i += perMessage) out.push(all.slice(i, i + perMessage));
  return out;
}

describe('multi-message TSIG streams (RFC 8945 §5.3.1)', () => {
  it('dnspython dns.query.xfr verifies a 3000-record AXFR that TsigSigner signs, with unsigned messages in between', async () => {
    const key: TsigKey = { name: Name.fromText('xfr-key.'), algorithm: 'hmac-sha256', secret: generateSecret('hmac-sha256') };
    const ring = new Keyring([key]);
    const zone = Name.fromText('stream.test.');
    const chunks = fakeAxfr(zone, 3000, 100);
    let sent = { signed: 0, unsigned: 0 };
    const server = net.createServer((sock) => {
      let buf = Buffer.alloc(0);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length < 2 || buf.length < 2 + buf.readUInt16BE(0)) return;
        const msg = new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        const check = tsigCheck(msg, ring, now());
        const frames: Uint8Array[] = [];
        if (check.kind !== 'ok') frames.push(check.kind === 'reject' && check.response ? check.response : new Uint8Array(0));
        else {
          chunks.forEach((answer, i) => {
            const wire = encodeResponse({
              id: check.message.id, opcode: 0, aa: true, rd: false, cd: false, rcode: 0,
              question: i === 0 ? check.message.question[0] : undefined, answer, authority: [], additional: [],
            }, 65535, check.signer.overhead);
            // Every third message in the middle goes unsigned; the first and the last are signed.
            if (i > 0 && i < chunks.length - 1 && i % 3 === 0) { check.signer.unsigned(wire); frames.push(wire); sent.unsigned++; }
            else { frames.push(check.signer.sign(wire, now())); sent.signed++; }
          });
        }
        for (const f of frames) {
          const len = Buffer.alloc(2);
          len.writeUInt16BE(f.length);
          sock.write(Buffer.concat([len, f]));
        }
        sock.end();
      });
      sock.on('error', () => sock.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      // Asynchronously: the server above runs in this process.
      const ask = async (k: TsigKey) => {
        const r = await runCommand(PYTHON, [SCRIPT], {
          input: JSON.stringify({ op: 'xfr', host: '127.0.0.1', port, zone: 'stream.test.', key: { name: k.name.toString(), algorithm: k.algorithm, secret: b64(k.secret) } }),
          timeoutMs: 60_000,
        });
        return JSON.parse(r.stdout) as { ok: boolean; messages: number; records: number; error?: string };
      };
      const good = await ask(key);
      expect(good).toEqual({ ok: true, messages: chunks.length, records: 3002 });
      expect(sent.unsigned).toBeGreaterThan(5);
      // The same stream to a client holding another secret: the server answers BADSIG and dnspython says so.
      sent = { signed: 0, unsigned: 0 };
      const bad = await ask({ ...key, secret: generateSecret('hmac-sha256') });
      expect(bad.ok).toBe(false);
      expect(bad.error).toMatch(/PeerBadSignature|BadSignature/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  }, 60_000);

  describe('knotd as the primary: TsigVerifier and the reader check its signed AXFR', () => {
    let knot: KnotXfr;
    let key: TsigKey;
    const zone = 'xfr.test.';
    beforeAll(async () => {
      const gen = sections((await tandem(['tsig-keygen', 'knot-key'])).stdout);
      [key] = parseKeyFile(gen.BIND, 'keygen');
      const lines = ['@ 3600 IN SOA ns1 hostmaster 7 3600 600 86400 300', '@ 3600 IN NS ns1', 'ns1 3600 IN A 127.0.0.1'];
      for (let i = 0; i < 1500; i++) {
        lines.push(`h${i} 300 IN A 10.1.${(i >> 8) & 255}.${i & 255}`);
        lines.push(`h${i} 300 IN TXT "filler ${i} the quick brown fox jumps over the lazy dog 0123456789"`);
      }
      knot = await startKnotXfr({ keySections: [gen.Knot], zones: [{ domain: zone, role: 'primary', zoneText: `$ORIGIN ${zone}\n${lines.join('\n')}\n`, allow: { key: 'knot-key' } }] });
    }, 60_000);
    afterAll(() => knot?.stop());

    const axfr = (k: TsigKey) => {
      const req = signRequest(encodeQuery(Name.fromText(zone), RRType.AXFR, { id: 4242, edns: false }), k, now());
      let soas = 0;
      const stream = tcpStream(knot.host, knot.port, req.wire, (msg) => {
        const m = readMessage(msg);
        if (!m.ok || m.message.rcode !== 0) return true;
        soas += m.message.answer.filter((r) => r.type === RRType.SOA).length;
        return soas >= 2;
      });
      return { req, stream };
    };

    it('RFC 8945 §5.3.1: every message of a multi-message AXFR of ~3000 records verifies, in order, and the stream ends signed', async () => {
      const { req, stream } = axfr(key);
      const msgs = await stream;
      expect(msgs.length).toBeGreaterThan(2);
      const results = msgs.map((m) => req.verifier.verify(m, now()));
      expect(results.every((r) => r.ok), JSON.stringify(results.find((r) => !r.ok))).toBe(true);
      expect(req.verifier.finish()).toEqual({ ok: true });
      const records = msgs.flatMap((m) => read(m).answer);
      expect(records.length).toBe(3000 + 3 + 1); // A + TXT, apex SOA, NS, ns1 A, closing SOA
      expect([records[0].type, records.at(-1)!.type]).toEqual([RRType.SOA, RRType.SOA]);
      const txt = records.find((r) => r.type === RRType.TXT && r.name.toString() === 'h7.xfr.test.')!;
      expect(Buffer.from(txt.rdata.subarray(1)).toString()).toBe('filler 7 the quick brown fox jumps over the lazy dog 0123456789');
    }, 30_000);

    it('one changed octet in a middle message fails that message, and everything after it', async () => {
      const { req, stream } = axfr(key);
      const msgs = await stream;
      const bad = msgs.map((m) => Uint8Array.from(m));
      const k = Math.floor(bad.length / 2);
      bad[k][40] ^= 0x01;
      const results = bad.map((m) => req.verifier.verify(m, now()));
      expect(results.slice(0, k).every((r) => r.ok)).toBe(true);
      expect(results[k]).toMatchObject({ ok: false });
      expect(results.slice(k).every((r) => !r.ok)).toBe(true);
      expect(req.verifier.finish().ok).toBe(false);
    }, 30_000);

    it("Knot's BADSIG (wrong secret) and BADKEY (unknown key) answers are reported with their TSIG error", async () => {
      const wrong = axfr({ ...key, secret: generateSecret('hmac-sha256') });
      const [w] = await wrong.stream;
      expect(wrong.req.verifier.verify(w, now())).toMatchObject({ ok: false, error: TsigError.BADSIG });
      const unknown = axfr({ ...key, name: Name.fromText('stranger.') });
      const [u] = await unknown.stream;
      expect(unknown.req.verifier.verify(u, now())).toMatchObject({ ok: false, error: TsigError.BADKEY });
    }, 30_000);

    it('dig -y with the tsig-keygen key transfers the zone from Knot', async () => {
      const r = await dig({ host: knot.host, port: knot.port }, ['-y', `hmac-sha256:knot-key:${b64(key.secret)}`, zone, 'AXFR']);
      expect(r.raw).not.toMatch(/Transfer failed|tsig verify failure|could not be validated/i);
      expect(r.raw).toMatch(/XFR size: 3004 records/);
    }, 30_000);
  });
});
