// Pre-signed zones (issue 11) decided by real validators: zones signed by BIND's dnssec-signzone and by
// ldns-signzone (NSEC, NSEC3, NSEC3 with salt and iterations, NSEC3 opt-out) are served by a real tandem
// listener with no signing of its own; delv, with the DS of the signer's KSK as its only trust anchor, must
// validate every kind of answer, and unbound must follow referrals to a signed and to an unsigned child.
// Negative controls: a flipped signature bit, a proof record removed from the data, a wrong DS.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Name } from '../../src/dns/name.js';
import type { Rr } from '../../src/dns/rr.js';
import { RRType } from '../../src/dns/types.js';
import { formatRdata } from '../../src/dns/rdata.js';
import { systemClock } from '../../src/dnssec/types.js';
import { preparePresignedZone } from '../../src/state/presigned.js';
import type { Zone } from '../../src/zone/types.js';
import { delv, delvVerdict, dig, requireTool, type DelvVerdict } from '../helpers/dig.js';
import { startTamperProxy } from '../helpers/tamper.js';
import { port53Address, startUnbound, type UnboundInstance } from '../helpers/unbound.js';
import { runChecked } from '../helpers/procs.js';
import {
  captureLogs, PRESIGNED_CASES, presignedLoaded, presignedZoneText, readSignedRecords, serveZones, signZone, unsignedChild,
  type ServedZones, type SignedZone, type SignOptions,
} from '../helpers/presigned.js';

type Verdict = DelvVerdict;
const verdict = delvVerdict;

async function anchorFile(dir: string, name: string, ds: string): Promise<string> {
  const [, tag, alg, dt, digest] = /\sDS\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)/.exec(ds)!;
  const file = join(dir, name);
  await writeFile(file, `trust-anchors { "example.org." static-ds ${tag} ${alg} ${dt} "${digest}"; };\n`);
  return file;
}

async function prepared(s: SignedZone, drop: (r: Rr) => boolean = () => false): Promise<Zone> {
  const p = await preparePresignedZone(presignedLoaded(s.origin, s.records.filter((r) => !drop(r))), { clock: systemClock, logger: pino({ level: 'silent' }) });
  return p.zone;
}

const name = (t: string) => Name.fromText(t);

const cases = PRESIGNED_CASES;

const configs: (SignOptions & { label: string })[] = [
  { label: 'dnssec-signzone, NSEC', signer: 'bind', chain: 'nsec' },
  { label: 'dnssec-signzone, NSEC3 (-3 - -H 0)', signer: 'bind', chain: 'nsec3' },
  { label: 'dnssec-signzone, NSEC3 opt-out (-A)', signer: 'bind', chain: 'nsec3-optout' },
  { label: 'ldns-signzone, NSEC', signer: 'ldns', chain: 'nsec' },
  { label: 'ldns-signzone, NSEC3 with salt and 1 iteration (-n)', signer: 'ldns', chain: 'nsec3', salt: 'C0FFEE', iterations: 1 },
];

for (const config of configs) {
  describe(`delv validates a pre-signed zone (${config.label})`, () => {
    let dir: string;
    let signed: SignedZone;
    let s: ServedZones;
    let anchor: string;
    const logs = captureLogs('warn');
    beforeAll(async () => {
      for (const [tool, pkg] of [['delv', 'bind9-dnsutils'], ['dnssec-signzone', 'bind9-utils'], ['ldns-signzone', 'ldnsutils']]) requireTool(tool, pkg);
      dir = await mkdtemp(join(tmpdir(), 'tandem-presigned-'));
      signed = await signZone(config);
      s = await serveZones([await prepared(signed)], { logger: logs.logger });
      anchor = await anchorFile(dir, 'anchor.conf', signed.ds[0]);
    });
    afterAll(async () => {
      await s?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    const optOut = config.chain === 'nsec3-optout';
    it.each(cases)(`%s %s (%s)`, async (qname, type, want) => {
      const r = await delv(s, anchor, ['+root=example.org', qname, type]);
      expect(verdict(r.out), r.out).toBe(want === 'wildcard' ? (optOut ? 'insecure' : 'positive') : want);
    });

    it('the zone data is complete: no answer lacked an RRSIG or a proof (nothing logged)', () => {
      expect(logs.lines.filter((l) => /lacks DNSSEC records/.test(l.msg))).toEqual([]);
    });

    it('RFC 3225 §3: without DO the answer carries no DNSSEC records; an explicit RRSIG query gets the signatures', async () => {
      const plain = await dig(s, ['+norec', '+nodnssec', 'www.example.org', 'A']);
      expect(plain.answer.map((r) => r.type)).toEqual(['A']);
      const nx = await dig(s, ['+norec', '+nodnssec', 'nope.example.org', 'A']);
      expect(nx.status).toBe('NXDOMAIN');
      expect(nx.authority.map((r) => r.type)).toEqual(['SOA']);
      const sigs = await dig(s, ['+norec', '+nodnssec', 'www.example.org', 'RRSIG']);
      expect(sigs.answer.map((r) => r.data.split(' ')[0]).sort()).toEqual(config.chain === 'nsec' ? ['A', 'AAAA', 'NSEC'] : ['A', 'AAAA']);
    });

    it('RFC 5155 §7.2.8 / RFC 4034 §4: an NSEC3 owner name does not exist; an NSEC is answered when asked for', async () => {
      const chainType = config.chain === 'nsec' ? 'NSEC' : 'NSEC3';
      const rr = signed.records.find((r) => r.type === (config.chain === 'nsec' ? RRType.NSEC : RRType.NSEC3))!;
      const r = await dig(s, ['+norec', '+dnssec', rr.name.toString(), chainType]);
      if (chainType === 'NSEC3') {
        expect(r.status).toBe('NXDOMAIN');
        expect(r.answer).toHaveLength(0);
      } else {
        expect(r.answer.map((x) => x.type)).toEqual(['NSEC', 'RRSIG']);
      }
    });

    it('negative control: a flipped bit in the RRSIGs fails validation', async () => {
      const proxy = await startTamperProxy(s);
      try {
        for (const [qname, type] of [['www.example.org', 'A'], ['nope.example.org', 'A']]) {
          const r = await delv({ host: '127.0.0.1', port: proxy.port }, anchor, ['+root=example.org', '+notcp', qname, type]);
          expect(verdict(r.out), r.out).toBe('failed');
        }
      } finally {
        await proxy.close();
      }
    });

    it('negative control: with the proof record that covers the name removed from the data, NXDOMAIN fails validation and the gap is logged once', async () => {
      // The record tandem sent to deny `nope` (the NSEC, or the NSEC3 covering its next closer name).
      const full = await dig(s, ['+norec', '+dnssec', 'nope.example.org', 'A']);
      const proofType = config.chain === 'nsec' ? 'NSEC' : 'NSEC3';
      const proofs = full.authority.filter((r) => r.type === proofType).map((r) => r.name.toLowerCase());
      const victim = name(config.chain === 'nsec' ? proofs[0] : proofs[1]);
      const broken = captureLogs('warn');
      const b = await serveZones([await prepared(signed, (r) => r.name.equals(victim) && (r.type === RRType.NSEC || r.type === RRType.NSEC3))], { logger: broken.logger });
      try {
        for (const type of ['A', 'AAAA']) {
          const r = await delv(b, anchor, ['+root=example.org', 'nope.example.org', type]);
          expect(verdict(r.out), r.out).toBe('failed');
        }
        expect(verdict((await delv(b, anchor, ['+root=example.org', 'www.example.org', 'A'])).out)).toBe('positive');
        const warned = broken.lines.filter((l) => /lacks DNSSEC records/.test(l.msg));
        expect(warned).toHaveLength(1);
        expect(String(warned[0].missing)).toMatch(/covering/);
      } finally {
        await b.stop();
      }
    });
  });
}

const CHILD = await port53Address();

// Referrals need a validating resolver that follows them: unbound asks the nameserver in the glue, on port 53
// (delv only forwards, and calls a referral a lame answer). The children are served by a second tandem there.
describe.skipIf(CHILD === undefined)('unbound follows referrals of a pre-signed parent (needs port 53 on a loopback address)', () => {
  const child = CHILD!;
  let childServer: ServedZones;
  let childDs: string;
  let insecureHash: string;
  const parents: ServedZones[] = [];
  const resolvers: UnboundInstance[] = [];
  beforeAll(async () => {
    for (const [tool, pkg] of [['unbound', 'unbound'], ['unbound-control', 'unbound'], ['dnssec-signzone', 'bind9-utils']]) requireTool(tool, pkg);
    insecureHash = (await runChecked('nsec3hash', ['-', '1', '0', 'insecure.example.org'])).split(' ')[0];
    // secure.example.org.: signed (its DS goes into the parent); insecure.example.org.: unsigned.
    const secure = await signZone({
      signer: 'bind', chain: 'nsec', zone: 'secure.example.org.',
      text: `$ORIGIN secure.example.org.\n$TTL 300\n@ SOA ns hostmaster 1 3600 900 604800 300\n@ NS ns\nns A ${child}\nwww A 192.0.2.80\n`,
    });
    childDs = secure.ds[0];
    const insecure = unsignedChild(name('insecure.example.org.'), child);
    childServer = await serveZones([await prepared(secure), insecure], { listen: { host: child, port: 53 } });
  });
  afterAll(async () => {
    await Promise.all(resolvers.map((r) => r.stop()));
    await Promise.all(parents.map((p) => p.stop()));
    await childServer?.stop();
  });

  /** A parent signed with `chain`, served with `drop`ped records missing; and an unbound trusting its KSK. */
  async function parentAndResolver(chain: SignOptions['chain'], opts: { secureDs?: string; drop?: (r: Rr, s: SignedZone) => boolean } = {}) {
    const ds = opts.secureDs ?? childDs.split(/\sDS\s/)[1].trim();
    const signed = await signZone({ signer: 'bind', chain, text: presignedZoneText({ secureDs: ds, glue: child }) });
    const parent = await serveZones([await prepared(signed, (r) => opts.drop?.(r, signed) ?? false)]);
    parents.push(parent);
    const u = await startUnbound({ trustAnchors: signed.ds, stubs: [{ zone: 'example.org.', addrs: [`${parent.host}@${parent.port}`] }] });
    resolvers.push(u);
    return { signed, parent, u };
  }

  for (const chain of ['nsec', 'nsec3', 'nsec3-optout'] as const) {
    it(`RFC 4035 §3.1.4 (${chain}): a referral with a signed DS leads to a validated child answer`, async () => {
      const { u } = await parentAndResolver(chain);
      const r = await u.query('www.secure.example.org.', 'A');
      expect(r.status, u.logs()).toBe('NOERROR');
      expect(r.flags).toContain('ad');
      expect(r.answer.find((x) => x.type === 'A')?.data).toBe('192.0.2.80');
    });

    it(`RFC 4035 §3.1.4, RFC 5155 §7.2.7 (${chain}): a referral to an unsigned child proves the DS absent: an insecure, not bogus, answer`, async () => {
      const { u } = await parentAndResolver(chain);
      const r = await u.query('www.insecure.example.org.', 'A');
      expect(r.status, u.logs()).toBe('NOERROR');
      expect(r.flags).not.toContain('ad');
      expect(r.answer.find((x) => x.type === 'A')?.data).toBe('192.0.2.81');
      // The parent's own data still validates through the same resolver.
      expect((await u.query('www.example.org.', 'A')).flags).toContain('ad');
    });

    it(`negative control (${chain}): without the record proving no DS at the cut, the unsigned child is bogus (SERVFAIL)`, async () => {
      // NSEC and plain NSEC3: the cut's own record; opt-out: the NSEC3 covering the cut (the only one the referral has).
      const { u } = await parentAndResolver(chain, {
        drop: (r, s) => {
          if (chain === 'nsec') return r.type === RRType.NSEC && r.name.equals(name('insecure.example.org.'));
          return r.type === RRType.NSEC3 && proofOwnersFor(s, chain, insecureHash).includes(r.name.key);
        },
      });
      const r = await u.query('www.insecure.example.org.', 'A');
      expect(r.status).toBe('SERVFAIL');
    });
  }

  it('negative control: a DS that does not match the child\'s key makes the signed child bogus (SERVFAIL)', async () => {
    const { u } = await parentAndResolver('nsec3', { secureDs: '12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF' });
    const r = await u.query('www.secure.example.org.', 'A');
    expect(r.status).toBe('SERVFAIL');
  });
});

/**
 * Keys of the NSEC3 owners that prove `insecure.example.org.` has no DS (its hash from BIND's nsec3hash tool):
 * the matching one (plain NSEC3), or the one covering its hash (opt-out: owner < hash < next, wrapping).
 */
function proofOwnersFor(s: SignedZone, chain: SignOptions['chain'], hash: string): string[] {
  const label = (r: Rr) => new TextDecoder().decode(r.name.labels[0]).toUpperCase();
  return s.records.filter((r) => {
    if (r.type !== RRType.NSEC3) return false;
    const owner = label(r);
    if (chain === 'nsec3') return owner === hash;
    const next = formatRdata(RRType.NSEC3, r.rdata).split(' ')[4];
    return owner < next ? owner < hash && hash < next : owner < hash || hash < next;
  }).map((r) => r.name.key);
}
