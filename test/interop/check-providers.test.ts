// `tandem check` with BIND 9.18 (dnssec-policy, NSEC3) and PowerDNS 4.7 (gsqlite3, NSEC3) as the other provider
// of an RFC 8901 model-2 zone beside tandem: each takes tandem's DNSKEYs and CDS/CDNSKEY into its own RRsets
// (BIND by dynamic update, PowerDNS with direct-dnskey), tandem imports theirs. The correct set-up passes; with
// tandem's ZSK taken out of the other provider's DNSKEY RRset the checker names the missing key, and dnspython
// agrees on the failing pair. The checker talks DNS only, so the same code judges every server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dig, requireTool } from '../helpers/dig.js';
import { startBind } from '../helpers/bind.js';
import { CHECK_ZONE, OTHER_NS, otherZone } from '../helpers/check-zone.js';
import { api, enableMultiSigner, importKeys } from '../helpers/multisigner.js';
import { startPdns } from '../helpers/pdns.js';
import { waitFor } from '../helpers/procs.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { validateAnswers } from '../helpers/validate.js';
import { Name } from '../../src/dns/name.js';
import { parseDsText } from '../../src/lab/anchors.js';
import { runCheck, type Provider } from '../../src/lab/check.js';
import type { CheckReport } from '../../src/lab/report.js';

const zone = Name.fromText(CHECK_ZONE);

/** The other provider, as the test drives it. */
interface Other {
  host: string;
  port: number;
  /** Its own DNSKEY RRs and the DS of its KSK. */
  keys(): Promise<{ dnskeys: string[]; ds: string[] }>;
  /** Adds apex records (`ms.test. TTL IN TYPE RDATA`) to its DNSKEY/CDS/CDNSKEY RRsets. */
  add(records: string[]): Promise<void>;
  /** Removes one apex record added with `add`; resolves once it is no longer served. */
  remove(record: string): Promise<void>;
  stop(): Promise<void>;
}

const rrParts = (rr: string) => {
  const m = /^(\S+)\s+(\d+)\s+IN\s+(\S+)\s+(.*)$/.exec(rr.trim())!;
  return { owner: m[1], ttl: Number(m[2]), type: m[3], rdata: m[4] };
};

async function gone(o: { host: string; port: number }, record: string): Promise<void> {
  const { type, rdata } = rrParts(record);
  const want = rdata.replace(/\s+/g, '').toLowerCase();
  await waitFor(async () => {
    const r = await dig(o, ['+norec', CHECK_ZONE, type]);
    return !r.answer.some((x) => x.data.replace(/\s+/g, '').toLowerCase() === want) || undefined;
  }, 10_000, { what: `${type} record removed`, intervalMs: 100 });
}

const servers: { name: string; tools: [string, string][]; start: () => Promise<Other> }[] = [
  {
    name: 'BIND 9.18 (dnssec-policy, NSEC3, foreign records by dynamic update)',
    tools: [['named', 'bind9'], ['nsupdate', 'bind9-dnsutils'], ['dnssec-dsfromkey', 'bind9-utils']],
    async start() {
      const b = await startBind({ zone: CHECK_ZONE, zoneText: otherZone(2), denial: 'nsec3' });
      return {
        host: b.host, port: b.port,
        keys: async () => ({ dnskeys: await b.keys(), ds: await b.ds() }),
        // The policy caps TTLs at 2 s: the records go in with that TTL.
        add: (records) => b.update(records.map((r) => { const p = rrParts(r); return `update add ${p.owner} 2 IN ${p.type} ${p.rdata}`; })),
        async remove(record) {
          const p = rrParts(record);
          await b.update([`update delete ${p.owner} IN ${p.type} ${p.rdata}`]);
          await gone(b, record);
        },
        stop: () => b.stop(),
      };
    },
  },
  {
    name: 'PowerDNS 4.7 (gsqlite3, NSEC3, direct-dnskey)',
    tools: [['pdns_server', 'pdns-server'], ['pdnsutil', 'pdns-server'], ['sqlite3', 'sqlite3']],
    async start() {
      const p = await startPdns({ zone: CHECK_ZONE, zoneText: otherZone(), denial: 'nsec3' });
      const added: string[] = [];
      return {
        host: p.host, port: p.port,
        keys: () => p.keys(),
        async add(records) {
          added.push(...records);
          await p.addApexRecords(records.map((r) => { const x = rrParts(r); return { type: x.type, ttl: x.ttl, rdata: x.rdata }; }));
        },
        async remove(record) {
          const { type, ttl } = rrParts(record);
          const rest = added.filter((r) => r !== record && rrParts(r).type === type).map((r) => rrParts(r).rdata);
          await p.replaceApexRRset(type, ttl, rest);
          await gone(p, record);
        },
        stop: () => p.stop(),
      };
    },
  },
];

for (const server of servers) {
  describe(`tandem check: tandem and ${server.name}`, () => {
    let t: TestServer;
    let other: Other;
    let foreign: string[];
    let ds: string[];
    let providers: Provider[];
    let zskTag: number;
    const check = (): Promise<CheckReport> => runCheck({ zone, providers, anchors: parseDsText(ds.join('\n'), 'ds.txt', zone), now: () => Math.floor(Date.now() / 1000) });
    const errors = (r: CheckReport) => r.findings.filter((f) => f.level === 'error').map((f) => `${f.code}: ${f.message}\n  ${(f.details ?? []).join('\n  ')}`);

    beforeAll(async () => {
      for (const [tool, pkg] of server.tools) requireTool(tool, pkg);
      [t, other] = await Promise.all([startTestServer({ zones: 'test/fixtures/check' }), server.start()]);
      const id = await enableMultiSigner(t, OTHER_NS);
      const served = async (type: string) => (await dig({ host: t.host, port: t.port }, ['+norec', CHECK_ZONE, type])).answer.filter((x) => x.type === type).map((x) => `${CHECK_ZONE} 300 IN ${type} ${x.data}`);
      foreign = [...await served('DNSKEY'), ...await served('CDS'), ...await served('CDNSKEY')];
      await other.add(foreign);
      const theirs = await other.keys();
      expect(theirs.dnskeys).toHaveLength(2);
      await importKeys(t, id, theirs.dnskeys);
      ds = [(await api(t, 'GET', `/zones/${id}/dnssec`)).result.ds as string, ...theirs.ds];
      expect(ds).toHaveLength(2);
      zskTag = Number((await dig({ host: t.host, port: t.port }, ['+norec', '+dnssec', CHECK_ZONE, 'SOA'])).answer.find((x) => x.type === 'RRSIG')!.data.split(' ')[6]);
      providers = [{ label: 'tandem', server: { host: t.host, port: t.port } }, { label: 'other', server: { host: other.host, port: other.port } }];
    }, 120_000);
    afterAll(async () => {
      await Promise.all([t?.stop(), other?.stop()]);
    });

    it('the correct set-up passes: no errors, every pinned pair valid, the other provider\'s NSEC3 proofs and tandem\'s compact ones agreeing', async () => {
      const r = await check();
      expect(errors(r)).toEqual([]);
      expect(r.pairs.map((p) => p.failed)).toEqual([0, 0, 0, 0]);
      expect(r.providers.map((p) => p.denial)).toEqual(['compact', 'nsec3']);
      const kinds = new Set(r.names.flatMap((n) => n.answers.map((a) => a.kind)));
      for (const k of ['positive', 'nxdomain', 'nodata']) expect(kinds).toContain(k);
      for (const n of r.names) expect(n.answers.every((a) => !a.error), n.name).toBe(true);
    });

    it('negative control: tandem\'s ZSK missing from the other provider\'s DNSKEY RRset is caught and named (RFC 8901 §3); dnspython agrees', async () => {
      const zsk = foreign.find((r) => / DNSKEY 256 /.test(r))!;
      await other.remove(zsk);
      try {
        const r = await check();
        expect(r.ok).toBe(false);
        expect(r.findings.filter((f) => f.code === 'zsk-missing').map((f) => f.message)).toEqual([expect.stringContaining(`the DNSKEY RRset of other lacks ZSK ${zskTag} that tandem signs with`)]);
        expect(r.pairs.find((p) => p.data === 'tandem' && p.keys === 'other')!.failed).toBeGreaterThan(0);
        expect(r.pairs.find((p) => p.data === 'other' && p.keys === 'tandem')!.failed).toBe(0);
        const py = await validateAnswers({ zone: CHECK_ZONE, dnskeyFrom: `${other.host}@${other.port}`, dataFrom: `${t.host}@${t.port}`, ds, queries: [{ name: `www.${CHECK_ZONE}`, type: 'A' }] });
        expect(py.ok).toBe(false);
      } finally {
        await other.add([zsk]);
      }
    });
  });
}
