// The checker's RRSIG verification (src/lab/verify.ts): the RFC 6605 vector, every algorithm other providers
// sign with (signatures made by dnspython, which shares no code with it), and each RFC 4035 §5.3.1 reason.
import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { Name } from '../../../src/dns/name.js';
import type { RRset } from '../../../src/dns/rr.js';
import { RRType } from '../../../src/dns/types.js';
import { parseKeyTime } from '../../../src/dnssec/keyfile.js';
import { generateKey, keyPairFromScalar } from '../../../src/dnssec/keys.js';
import { rrsigRdata, signedData, type RrsigFields } from '../../../src/dnssec/rrsig.js';
import { NodeSigner } from '../../../src/dnssec/signer.js';
import { checkRrset, checkRrsig } from '../../../src/lab/verify.js';
import { runCommand } from '../../helpers/procs.js';
import { SYSTEM_PYTHON } from '../../helpers/validate.js';

const n = (t: string) => Name.fromText(t);
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const zone = n('example.net.');

// RFC 6605 §6.1.
const VEC_KEY = keyPairFromScalar(257, b64('GU6SnQ/Ou+xC5RumuIUIuJZteXT2z0O/ok1s38Et6mQ='));
const VEC_SIG = b64('qx6wLYqmh+l9oCKTN6qIc+bw6ya+KJ8oMz0YP107epXAyGmt+3SNruPFKG7tZoLBLlUzGGus7ZwmwWep666VCw==');
const INCEPTION = parseKeyTime('20100812100439')!;
const EXPIRATION = parseKeyTime('20100909100439')!;
const DURING = INCEPTION + 86400;
const www: RRset = { name: n('www.example.net.'), type: RRType.A, class: 1, ttl: 3600, rdatas: [Uint8Array.of(192, 0, 2, 1)] };
const vecFields: RrsigFields = { typeCovered: RRType.A, algorithm: 13, labels: 3, originalTtl: 3600, expiration: EXPIRATION, inception: INCEPTION, keyTag: 55648, signerName: zone };
const vecRrsig = rrsigRdata(vecFields, VEC_SIG);

describe('RFC 6605 §6.1 vector', () => {
  it('validates inside its window, naming the key that verified it', () => {
    const r = checkRrset(www, [vecRrsig], zone, [VEC_KEY.dnskey], DURING);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.by).toMatchObject({ keyTag: 55648, algorithm: 13, inception: INCEPTION, expiration: EXPIRATION });
  });

  it.each([
    ['expired (RFC 4035 §5.3.1)', () => checkRrsig(vecRrsig, www, zone, [VEC_KEY.dnskey], EXPIRATION + 1), /^expired at 2010-09-09T10:04:39Z$/],
    ['inception in the future', () => checkRrsig(vecRrsig, www, zone, [VEC_KEY.dnskey], INCEPTION - 1), /^not valid before 2010-08-12T10:04:39Z \(inception in the future\)$/],
    ['key not in the DNSKEY RRset', () => checkRrsig(vecRrsig, www, zone, [generateKey(256).dnskey], DURING), /^key 55648 \(algorithm 13\) is not in the DNSKEY RRset$/],
    ['signer is not the zone', () => checkRrsig(vecRrsig, www, n('other.net.'), [VEC_KEY.dnskey], DURING), /^signer example\.net\. is not the zone other\.net\./],
    ['labels above the owner\'s', () => checkRrsig(rrsigRdata({ ...vecFields, labels: 4 }, VEC_SIG), www, zone, [VEC_KEY.dnskey], DURING), /^labels 4 exceed the 3 labels/],
    ['data changed', () => checkRrsig(vecRrsig, { ...www, rdatas: [Uint8Array.of(192, 0, 2, 2)] }, zone, [VEC_KEY.dnskey], DURING), /^key 55648: the signature does not verify$/],
    ['wrong type covered', () => checkRrsig(vecRrsig, { ...www, type: RRType.AAAA }, zone, [VEC_KEY.dnskey], DURING), /^covers A, not AAAA$/],
  ])('RFC 4035 §5.3.1: %s is a failure with its reason', (_what, run, reason) => {
    const r = run();
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(reason);
  });

  it('a revoked key (RFC 5011 §3) or one without the zone bit validates nothing', () => {
    const revoked = Uint8Array.from(VEC_KEY.dnskey);
    revoked[1] |= 0x80;
    expect(checkRrsig(vecRrsig, www, zone, [revoked], DURING).ok).toBe(false);
  });

  it('no RRSIG at all is a failure', () => {
    expect(checkRrset(www, [], zone, [VEC_KEY.dnskey], DURING)).toEqual({ ok: false, sigs: [], reason: 'no RRSIG' });
  });
});

describe('RFC 4035 §5.3.4: an RRset expanded from a wildcard', () => {
  it('validates with the wildcard owner and says which wildcard it came from', async () => {
    const k = generateKey(256);
    const wild: RRset = { ...www, name: n('*.example.net.') };
    const f: RrsigFields = { ...vecFields, labels: 2, keyTag: k.keyTag, inception: 1_700_000_000, expiration: 1_900_000_000 };
    const sig = rrsigRdata(f, await new NodeSigner(k).sign(signedData(wild, f)));
    const r = checkRrset({ ...www, name: n('x.y.example.net.') }, [sig], zone, [k.dnskey], 1_800_000_000);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.wildcard?.toString()).toBe('*.example.net.');
  });
});

describe('algorithms other providers sign with, signed by dnspython', () => {
  let vectors: { algorithm: number; dnskey: string; rrsig: string }[];
  beforeAll(async () => {
    const script = fileURLToPath(new URL('../../fixtures/lab/sign-algorithms.py', import.meta.url));
    const r = await runCommand(SYSTEM_PYTHON, [script], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    vectors = JSON.parse(r.stdout);
  }, 60_000);

  it.each([5, 8, 10, 14, 15, 16])('algorithm %i: valid, and a flipped bit is not', (alg) => {
    const v = vectors.find((x) => x.algorithm === alg)!;
    const rrset: RRset = { ...www, rdatas: [Uint8Array.of(192, 0, 2, 1), Uint8Array.of(192, 0, 2, 2)] };
    const ok = checkRrset(rrset, [hex(v.rrsig)], zone, [hex(v.dnskey)], 1_800_000_000);
    expect(ok.ok, ok.ok ? '' : ok.reason).toBe(true);
    const bad = hex(v.rrsig);
    bad[bad.length - 1] ^= 1;
    const no = checkRrset(rrset, [bad], zone, [hex(v.dnskey)], 1_800_000_000);
    expect(no.ok).toBe(false);
    if (!no.ok) expect(no.reason).toMatch(/the signature does not verify/);
  });
});
