// The checker's own validator (src/lab/judge.ts, verify.ts) against delv's verdicts, answer by answer: zones
// signed by BIND's dnssec-signzone and ldns-signzone (NSEC, NSEC3, NSEC3 opt-out, NSEC3 with salt and
// iterations) served pre-signed, and tandem signing live with NSEC, NSEC3 and compact denial. Whatever delv
// validates (positive, negative, or insecure under opt-out), the checker must find nothing wrong with; what delv
// rejects (a corrupted signature, a proof record missing), the checker must reject with the reason.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Name } from '../../src/dns/name.js';
import type { Message } from '../../src/dns/reader.js';
import type { Rr } from '../../src/dns/rr.js';
import { RRType, typeFromName } from '../../src/dns/types.js';
import { systemClock } from '../../src/dnssec/types.js';
import { preparePresignedZone } from '../../src/state/presigned.js';
import { parseDsText } from '../../src/lab/anchors.js';
import { ask } from '../../src/lab/ask.js';
import { judge, type Judged } from '../../src/lab/judge.js';
import { viewKeys } from '../../src/lab/keysets.js';
import { readApex } from '../../src/lab/providers.js';
import { delv, delvVerdict, requireTool, type Target } from '../helpers/dig.js';
import { api } from '../helpers/multisigner.js';
import { PRESIGNED_CASES, presignedLoaded, serveZones, signZone, type ServedZones, type SignOptions } from '../helpers/presigned.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { startTamperProxy } from '../helpers/tamper.js';
import { exampleZoneDir, withDenial } from '../helpers/zones.js';

const now = () => Math.floor(Date.now() / 1000);

async function anchorFile(dir: string, zone: string, ds: string): Promise<string> {
  const [, tag, alg, dt, digest] = /\sDS\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S+)/.exec(ds)!;
  const file = join(dir, `${zone}anchor.conf`);
  await writeFile(file, `trust-anchors { "${zone}" static-ds ${tag} ${alg} ${dt} "${digest}"; };\n`);
  return file;
}

/** The server's DNSKEY RRset once it validates from the DS (the checker's own path). */
async function trustedKeys(server: Target, zone: Name, ds: string): Promise<Uint8Array[]> {
  const st = await readApex({ label: 'x', server }, zone, 3000, false);
  const v = viewKeys(st, zone, parseDsText(ds, 'ds', zone), now());
  expect(v.untrusted).toBeUndefined();
  return v.trusted!;
}

async function answer(server: Target, qname: string, type: string): Promise<Message> {
  const r = await ask(server, Name.fromText(`${qname}.`), typeFromName(type)!);
  if (!r.ok) throw new Error(r.reason);
  return r.message;
}

const judgeOf = (m: Message, qname: string, type: string, zone: Name, keys: Uint8Array[]): Judged =>
  judge(m, Name.fromText(`${qname}.`), typeFromName(type)!, { zone, keys, now: now() });

const presigned: (SignOptions & { label: string })[] = [
  { label: 'dnssec-signzone, NSEC', signer: 'bind', chain: 'nsec' },
  { label: 'dnssec-signzone, NSEC3', signer: 'bind', chain: 'nsec3' },
  { label: 'dnssec-signzone, NSEC3 opt-out', signer: 'bind', chain: 'nsec3-optout' },
  { label: 'ldns-signzone, NSEC3 with salt and 1 iteration', signer: 'ldns', chain: 'nsec3', salt: 'C0FFEE', iterations: 1 },
];

for (const config of presigned) {
  describe(`the checker's validator agrees with delv: pre-signed zone (${config.label})`, () => {
    const zone = Name.fromText('example.org.');
    let dir: string;
    let s: ServedZones;
    let records: Rr[];
    let ds: string;
    let anchor: string;
    let keys: Uint8Array[];
    beforeAll(async () => {
      for (const [tool, pkg] of [['delv', 'bind9-dnsutils'], ['dnssec-signzone', 'bind9-utils'], ['ldns-signzone', 'ldnsutils']]) requireTool(tool, pkg);
      dir = await mkdtemp(join(tmpdir(), 'tandem-checkval-'));
      const signed = await signZone(config);
      records = signed.records;
      ds = signed.ds[0];
      const p = await preparePresignedZone(presignedLoaded(signed.origin, records), { clock: systemClock, logger: pino({ level: 'silent' }) });
      s = await serveZones([p.zone]);
      anchor = await anchorFile(dir, 'example.org.', ds);
      keys = await trustedKeys(s, zone, ds);
    });
    afterAll(async () => {
      await s?.stop();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    it.each(PRESIGNED_CASES)('%s %s: delv and the checker agree', async (qname, type) => {
      const d = delvVerdict((await delv(s, anchor, [`+root=example.org`, qname, type])).out);
      const j = judgeOf(await answer(s, qname, type), qname, type, zone, keys);
      expect(d).not.toBe('failed');
      expect(j.problems, `delv: ${d}`).toEqual([]);
      if (d === 'negative') expect(['nxdomain', 'nodata', 'cname']).toContain(j.kind);
      else expect(['positive', 'cname', 'wildcard']).toContain(j.kind);
    });

    it('negative control: a flipped signature bit fails both, the checker saying the signature does not verify', async () => {
      const proxy = await startTamperProxy(s);
      try {
        const t = { host: '127.0.0.1', port: proxy.port };
        for (const [qname, type] of [['www.example.org', 'A'], ['nope.example.org', 'A'], ['www.example.org', 'MX']]) {
          expect(delvVerdict((await delv(t, anchor, ['+root=example.org', '+notcp', qname, type])).out)).toBe('failed');
          const j = judgeOf(await answer(t, qname, type), qname, type, zone, keys);
          expect(j.problems.join('\n')).toMatch(/the signature does not verify/);
        }
      } finally {
        await proxy.close();
      }
    });

    it('negative control: a proof with its name-covering record removed is rejected, naming what is unproven', async () => {
      const m = await answer(s, 'nope.example.org', 'A');
      const chainType = config.chain === 'nsec' ? RRType.NSEC : RRType.NSEC3;
      const whole = judgeOf(m, 'nope.example.org', 'A', zone, keys);
      expect(whole.problems).toEqual([]);
      expect(whole.kind).toBe('nxdomain');
      // Each proof record alone is necessary: without any one of them the answer proves nothing.
      const proof = m.authority.filter((r) => r.type === chainType);
      expect(proof.length).toBeGreaterThanOrEqual(config.chain === 'nsec' ? 1 : 2);
      for (const gone of proof) {
        const cut = { ...m, authority: m.authority.filter((r) => r !== gone && !(r.type === RRType.RRSIG && r.name.equals(gone.name))) };
        const j = judgeOf(cut, 'nope.example.org', 'A', zone, keys);
        expect(j.problems.join('\n'), `without ${gone.name}`).toMatch(/no NSEC3? (matches|covers|proves)|no closest encloser proof|does not exist/);
      }
    });

    it('negative control: a wildcard answer without its no-closer-name proof is rejected (RFC 4035 §5.3.4, RFC 5155 §8.8)', async () => {
      const m = await answer(s, 'x.wild.example.org', 'A');
      const bare = { ...m, authority: m.authority.filter((r) => r.type !== RRType.NSEC && r.type !== RRType.NSEC3 && !(r.type === RRType.RRSIG && ([RRType.NSEC, RRType.NSEC3] as number[]).includes((r.rdata[0] << 8) | r.rdata[1]))) };
      expect(judgeOf(m, 'x.wild.example.org', 'A', zone, keys).kind).toBe('wildcard');
      expect(judgeOf(bare, 'x.wild.example.org', 'A', zone, keys).problems.join('\n')).toMatch(/synthesized from \*\.wild\.example\.org\. without a proof/);
    });
  });
}

describe('the checker\'s validator agrees with delv: tandem signing live (NSEC white lies, NSEC3, compact denial)', () => {
  const zone = Name.fromText('example.com.');
  const cases: [string, string][] = [
    ['www.example.com', 'A'], ['www.example.com', 'MX'], ['nope.example.com', 'A'], ['a.nope.example.com', 'AAAA'],
    ['alias.example.com', 'A'], ['x.wild.example.com', 'A'], ['x.wild.example.com', 'MX'],
    ['b.deep.example.com', 'A'], ['deep.example.com', 'TXT'], ['sub.example.com', 'DS'],
    ['insecure.example.com', 'DS'], ['www.example.com', 'DS'], ['example.com', 'NAPTR'], ['example.com', 'SOA'],
  ];
  for (const mode of ['nsec', 'nsec3', 'compact'] as const) {
    describe(mode, () => {
      let t: TestServer;
      let dir: string;
      let anchor: string;
      let keys: Uint8Array[];
      beforeAll(async () => {
        requireTool('delv', 'bind9-dnsutils');
        t = await startTestServer({ zones: await exampleZoneDir(withDenial(mode)) });
        dir = await mkdtemp(join(tmpdir(), 'tandem-checkval-'));
        const id = (await api(t, 'GET', '/zones?name=example.com')).result[0].id as string;
        const ds = (await api(t, 'GET', `/zones/${id}/dnssec`)).result.ds as string;
        anchor = await anchorFile(dir, 'example.com.', ds);
        keys = await trustedKeys(t, zone, ds);
      });
      afterAll(async () => {
        await t?.stop();
        if (dir) await rm(dir, { recursive: true, force: true });
      });

      it.each(cases)('%s %s: delv and the checker agree', async (qname, type) => {
        const d = delvVerdict((await delv(t, anchor, ['+root=example.com', qname, type])).out);
        const j = judgeOf(await answer(t, qname, type), qname, type, zone, keys);
        expect(d).not.toBe('failed');
        expect(j.problems, `delv: ${d}`).toEqual([]);
        if (d === 'negative') expect(['nxdomain', 'nodata', 'cname']).toContain(j.kind);
      });

      it('answers that leave the zone (a CNAME and a DNAME to example.net, which delv cannot follow here) validate as far as they are in the zone', async () => {
        for (const [qname, type] of [['ext.example.com', 'A'], ['host.old.example.com', 'A']]) {
          const j = judgeOf(await answer(t, qname, type), qname, type, zone, keys);
          expect(j.problems).toEqual([]);
          expect(j.kind).toBe('cname');
        }
      });

      it('RFC 9824: a name error is NXDOMAIN for the checker, with CO (RCODE NXDOMAIN) and without (NOERROR + NXNAME)', async () => {
        for (const co of [true, false]) {
          const r = await ask(t, Name.fromText('nope.example.com.'), RRType.A, { co });
          if (!r.ok) throw new Error(r.reason);
          const j = judge(r.message, Name.fromText('nope.example.com.'), RRType.A, { zone, keys, now: now() });
          expect(j.problems).toEqual([]);
          expect(j.kind).toBe('nxdomain');
          expect(j.compact).toBe(mode === 'compact');
          if (mode === 'compact') expect(r.message.rcode).toBe(co ? 3 : 0);
        }
      });

      it('negative control: an answer whose name-error proof is cut away, or whose RCODE contradicts it, is rejected', async () => {
        const m = await answer(t, 'nope.example.com', 'A');
        const bare = { ...m, authority: m.authority.filter((r) => r.type === RRType.SOA || (r.type === RRType.RRSIG && ((r.rdata[0] << 8) | r.rdata[1]) === RRType.SOA)) };
        expect(judgeOf(bare, 'nope.example.com', 'A', zone, keys).problems.join('\n')).toMatch(/no NSEC or NSEC3 in the authority section/);
        if (mode !== 'compact') {
          const noerror = { ...m, rcode: 0 };
          expect(judgeOf(noerror, 'nope.example.com', 'A', zone, keys).problems.join('\n')).toMatch(/NOERROR with a proof that nope\.example\.com\. does not exist/);
        }
        const nodata = await answer(t, 'www.example.com', 'MX');
        expect(judgeOf({ ...nodata, rcode: 3 }, 'www.example.com', 'MX', zone, keys).problems.join('\n')).toMatch(/NXDOMAIN with a proof that www\.example\.com\. exists/);
      });
    });
  }
});
