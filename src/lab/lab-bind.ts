// BIND 9.18 named as a provider of a lab: a dynamic zone under a `dnssec-policy` (ECDSA P-256 KSK + ZSK, NSEC or
// NSEC3), whose DNSKEY, CDS, CDNSKEY and NS RRsets take the other providers' records by dynamic update (RFC 2136;
// named signs each RRset with its own KSK: RFC 8901 model 2). Policy timings are the lab's TTL, so the KSK
// reaches "omnipresent" and named publishes its CDS/CDNSKEY within seconds. Ready once signed, the chain complete
// (every TYPE65534 signing record ends in 01: the lab notes) and the CDS published.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Name } from '../dns/name.js';
import { formatRdata, parseRdata } from '../dns/rdata.js';
import { RRType } from '../dns/types.js';
import { keyTag } from '../dnssec/keys.js';
import { writeFileAtomic } from '../state/atomic.js';
import { ask } from './ask.js';
import { freePort, runTool, spawnDetached, startDaemon } from './lab-procs.js';
import type { LabKey } from './lab-state.js';
import { sameRdata } from './lab-tandem.js';

/** named.conf of a provider in `dir` (keys in dir/keys, zone in dir/zone.db) on 127.0.0.1@port; shared with test/helpers/bind.ts. */
export function bindConf(dir: string, port: number, zone: string, nsec3: boolean, ttl: number, key?: { name: string; algorithm: string; secret: string }): string {
  // `key`: a TSIG key also allowed to UPDATE the zone (key sync).
  return `${key ? `key "${key.name}" { algorithm ${key.algorithm}; secret "${key.secret}"; };\n` : ''}options {
  directory "${dir}";
  pid-file "${dir}/named.pid";
  session-keyfile "${dir}/session.key";
  managed-keys-directory "${dir}";
  listen-on port ${port} { 127.0.0.1; };
  listen-on-v6 { none; };
  recursion no;
  allow-transfer { 127.0.0.1; };
  key-directory "${dir}/keys";
  dnssec-validation no;
};
controls { };
dnssec-policy lab {
  keys { ksk lifetime unlimited algorithm ecdsa256; zsk lifetime unlimited algorithm ecdsa256; };
  dnskey-ttl ${ttl};
  max-zone-ttl ${ttl};
  publish-safety 0;
  retire-safety 0;
  zone-propagation-delay 0;
  parent-ds-ttl ${ttl};
  parent-propagation-delay 0;
${nsec3 ? '  nsec3param iterations 0 optout no salt-length 0;\n' : ''}};
zone "${zone}" {
  type primary;
  file "${dir}/zone.db";
  dnssec-policy lab;
  inline-signing no;
  allow-update { 127.0.0.1;${key ? ` key "${key.name}";` : ''} };
};
`;
}

async function rdatas(port: number, zone: string, type: number): Promise<string[] | undefined> {
  const r = await ask({ host: '127.0.0.1', port }, Name.fromText(zone), type, { timeoutMs: 1000, tries: 1 });
  return r.ok ? r.message.answer.filter((rr) => rr.type === type).map((rr) => formatRdata(rr.type, rr.rdata)) : undefined;
}

export async function startBindProvider(o: { name: string; dir: string; zone: string; zoneText: string; denial: string; ttl: number; mark: string; timeoutMs: number; onSpawn?: (pid: number) => Promise<void> }): Promise<{ pid: number; port: number }> {
  const log = join(o.dir, 'named.log');
  await mkdir(join(o.dir, 'keys'), { recursive: true });
  await writeFileAtomic(join(o.dir, 'zone.db'), o.zoneText);
  return startDaemon({
    what: `${o.name} (named) serving ${o.zone} signed, with its CDS`, log, mark: o.mark, timeoutMs: o.timeoutMs, busy: /address in use|could not listen/i, onSpawn: o.onSpawn,
    async spawn() {
      const port = await freePort();
      await writeFileAtomic(join(o.dir, 'named.conf'), bindConf(o.dir, port, o.zone, o.denial === 'nsec3', o.ttl));
      await runTool('named-checkconf', [join(o.dir, 'named.conf')]);
      return { pid: await spawnDetached('named', ['-g', '-c', join(o.dir, 'named.conf')], log), port };
    },
    async ready(b) {
      const r = await ask({ host: '127.0.0.1', port: b.port }, Name.fromText(o.zone), RRType.SOA, { timeoutMs: 1000, tries: 1 });
      if (!r.ok || !r.message.answer.some((rr) => rr.type === RRType.RRSIG)) return false;
      const signing = await rdatas(b.port, o.zone, 65534);
      if (!signing || signing.some((x) => !/01$/.test(x.replace(/\s+/g, '')))) return false;
      return ((await rdatas(b.port, o.zone, RRType.CDS)) ?? []).length > 0;
    },
  });
}

/** named's own keys (its key files) and the DS (SHA-256) of its KSK. */
export async function bindKeys(dir: string, zone: string, ttl: number): Promise<{ keys: LabKey[]; ds: string[] }> {
  const files = (await readdir(join(dir, 'keys'))).filter((f) => f.endsWith('.key'));
  const keys: LabKey[] = [];
  const ds: string[] = [];
  for (const f of files) {
    const rr = (await readFile(join(dir, 'keys', f), 'utf8')).split('\n').find((l) => /\sDNSKEY\s/.test(l) && !l.startsWith(';'))!.trim().split(/\s+/);
    const at = rr.indexOf('DNSKEY');
    const publicKey = rr.slice(at + 4).join('');
    const flags = Number(rr[at + 1]);
    keys.push({ tag: keyTag(parseRdata(RRType.DNSKEY, `${flags} 3 13 ${publicKey}`, Name.fromText(zone))), flags, publicKey });
    if (flags === 257) {
      for (const l of (await runTool('dnssec-dsfromkey', ['-2', join(dir, 'keys', f)])).split('\n').filter((x) => /\sDS\s/.test(x))) {
        const t = l.trim().split(/\s+/);
        ds.push(`${zone} ${ttl} IN DS ${t.slice(-4).slice(0, 3).join(' ')} ${t[t.length - 1].toUpperCase()}`);
      }
    }
  }
  return { keys, ds };
}

/**
 * Brings named's apex NS, DNSKEY, CDS and CDNSKEY RRsets to `want` (`TYPE RDATA`; its own keys and CDS/CDNSKEY are
 * always kept) with one dynamic update: what is missing is added, what is served and not wanted is deleted.
 */
export async function setBindApex(o: { zone: string; port: number; ttl: number }, want: readonly string[], own: readonly string[]): Promise<void> {
  const lines: string[] = [];
  const keep = [...want, ...own];
  for (const type of ['NS', 'DNSKEY', 'CDS', 'CDNSKEY'] as const) {
    const served = (await rdatas(o.port, o.zone, RRType[type])) ?? [];
    const wanted = want.filter((w) => w.startsWith(`${type} `)).map((w) => w.slice(type.length + 1));
    for (const w of wanted) {
      if (served.some((x) => sameRdata(x, w))) continue;
      lines.push(`update add ${o.zone} ${o.ttl} IN ${type} ${w}`);
      // A new nameserver of the zone needs its address in the zone (the lab's are all on loopback).
      if (type === 'NS' && w.endsWith(`.${o.zone}`)) lines.push(`update add ${w} ${o.ttl} IN A 127.0.0.1`);
    }
    for (const x of served) if (!keep.some((k) => k.startsWith(`${type} `) && sameRdata(k.slice(type.length + 1), x))) lines.push(`update delete ${o.zone} IN ${type} ${x}`);
  }
  if (lines.length === 0) return;
  await runTool('nsupdate', [], { input: `server 127.0.0.1 ${o.port}\nzone ${o.zone}\n${lines.join('\n')}\nsend\n` });
}
