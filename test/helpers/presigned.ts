// Pre-signed zones for tests (issue 11): a zone signed by a real signer (BIND's dnssec-signzone or ldns-signzone,
// fresh keys each time), read back from the signer's one-record-per-line dump into records, and served by a
// real tandem DNS listener. `readSignedRecords` is a stand-in for the RFC 1035 master-file parser: swap it for
// that parser once it is merged.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { Name } from '../../src/dns/name.js';
import { formatRdata, parseRdata } from '../../src/dns/rdata.js';
import type { Rr } from '../../src/dns/rr.js';
import { RRClass, RRType, typeFromName, typeName } from '../../src/dns/types.js';
import type { LoadedZone } from '../../src/config/zonefile.js';
import type { ZoneConfig } from '../../src/config/zone-settings.js';
import { defaults, type Endpoint } from '../../src/config/server.js';
import { startDns } from '../../src/server/server.js';
import { ZoneSet } from '../../src/zone/zoneset.js';
import type { Zone } from '../../src/zone/types.js';
import { buildZone } from '../../src/zone/build.js';
import { runChecked } from './procs.js';

export const PRESIGNED_ORIGIN = 'example.org.';

/**
 * The test zone: apex data, A/AAAA/MX/TXT, a CNAME chain (and one to a name that does not exist), a DNAME,
 * wildcards (one a CNAME), an empty non-terminal, a signed delegation (DS) with glue, insecure delegations
 * with glue, and one (`x.optent`) whose parent exists only because of it (an opt-out empty non-terminal).
 * `secureDs`: the DS RDATA of `secure` (a real child's, for a referral test); `glue`: the address of the
 * child nameservers `ns.secure` and `ns.insecure`.
 */
export function presignedZoneText(opts: { secureDs?: string; glue?: string } = {}): string {
  const ds = opts.secureDs ?? '12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF';
  return `$ORIGIN example.org.
$TTL 300
@	3600	SOA	ns1 hostmaster 2024010101 3600 900 604800 300
@	NS	ns1
@	NS	ns2.example.net.
@	A	192.0.2.1
@	MX	10 mail
@	TXT	"apex"
ns1	A	192.0.2.53
ns1	AAAA	2001:db8::53
www	A	192.0.2.10
www	AAAA	2001:db8::10
mail	A	192.0.2.25
txt	TXT	"hello; world"
alias	CNAME	alias2
alias2	CNAME	www
dangling	CNAME	nothere
old	DNAME	new.example.org.
host.new	A	192.0.2.77
*.wild	A	192.0.2.99
*.wild	TXT	"wild"
*.wc	CNAME	www
a.b.ent	A	192.0.2.5
secure	NS	ns.secure
secure	DS	${ds}
ns.secure	A	${opts.glue ?? '192.0.2.60'}
insecure	NS	ns.insecure
ns.insecure	A	${opts.glue ?? '192.0.2.61'}
insec2	NS	ns2.example.net.
x.optent	NS	ns2.example.net.
`;
}

/** Each query and what delv must say; `wildcard` answers are insecure under opt-out (RFC 5155 §9.2: no proof that no closer name exists). */
export const PRESIGNED_CASES: [string, string, 'positive' | 'negative' | 'wildcard'][] = [
  ['www.example.org', 'A', 'positive'],
  ['www.example.org', 'AAAA', 'positive'],
  ['example.org', 'MX', 'positive'],                  // with signed addresses in the additional section
  ['txt.example.org', 'TXT', 'positive'],
  ['alias.example.org', 'A', 'positive'],             // CNAME chain
  ['host.old.example.org', 'A', 'positive'],          // DNAME, synthesized CNAME unsigned
  ['x.wild.example.org', 'A', 'wildcard'],            // wildcard
  ['a.b.wild.example.org', 'TXT', 'wildcard'],        // wildcard, two labels deep
  ['foo.wc.example.org', 'A', 'wildcard'],            // wildcard CNAME
  ['nope.example.org', 'A', 'negative'],              // NXDOMAIN
  ['a.nope.example.org', 'AAAA', 'negative'],         // NXDOMAIN, next closer name below the encloser
  ['dangling.example.org', 'A', 'negative'],          // CNAME to a nonexistent name
  ['www.example.org', 'MX', 'negative'],              // NODATA
  ['b.ent.example.org', 'A', 'negative'],             // empty non-terminal
  ['ent.example.org', 'TXT', 'negative'],             // empty non-terminal
  ['optent.example.org', 'A', 'negative'],            // empty non-terminal of an insecure delegation only
  ['x.wild.example.org', 'MX', 'negative'],           // wildcard NODATA
  ['secure.example.org', 'DS', 'positive'],           // signed delegation: DS
  ['insecure.example.org', 'DS', 'negative'],         // unsigned delegation: no DS
  ['insec2.example.org', 'DS', 'negative'],
  ['www.example.org', 'DS', 'negative'],              // DS query for a name that is no cut
  ['example.org', 'DNSKEY', 'positive'],
  ['example.org', 'SOA', 'positive'],
  ['example.org', 'NS', 'positive'],
];

export type SignerTool = 'bind' | 'ldns';
export type Chain = 'nsec' | 'nsec3' | 'nsec3-optout';

export interface SignOptions {
  signer: SignerTool;
  chain: Chain;
  /** NSEC3 salt in hex (default none) and extra iterations (default 0), RFC 5155 §3.1.4/§3.1.5. */
  salt?: string;
  iterations?: number;
  /** Signature inception and expiration (YYYYMMDDHHmmSS); default: the signer's (now to about a month ahead). */
  inception?: string;
  expiration?: string;
  /** The zone's origin and master-file text (default: example.org., presignedZoneText()). */
  zone?: string;
  text?: string;
}

export interface SignedZone {
  origin: Name;
  /** The signed zone, one record per line, as the signer's dump tool printed it. */
  text: string;
  records: Rr[];
  /** The DS RRs of the KSK in presentation form (dnssec-dsfromkey), for trust anchors. */
  ds: string[];
}

/** Signs a zone with fresh ECDSA P-256 keys (KSK + ZSK) by `signer` and reads the result. */
export async function signZone(opts: SignOptions): Promise<SignedZone> {
  const zone = opts.zone ?? PRESIGNED_ORIGIN;
  const bare = zone.replace(/\.$/, '');
  const dir = await mkdtemp(join(tmpdir(), 'tandem-presign-'));
  try {
    const file = join(dir, 'zone.db');
    const out = join(dir, 'zone.signed');
    await writeFile(file, opts.text ?? presignedZoneText());
    const nsec3 = opts.chain !== 'nsec';
    let text: string;
    if (opts.signer === 'bind') {
      // Keys published and active from the inception on: smart signing (-S) uses only keys active then.
      const timing = opts.inception ? ['-P', opts.inception, '-A', opts.inception] : [];
      await runChecked('dnssec-keygen', ['-q', '-K', dir, '-a', 'ECDSAP256SHA256', ...timing, '-f', 'KSK', bare]);
      await runChecked('dnssec-keygen', ['-q', '-K', dir, '-a', 'ECDSAP256SHA256', ...timing, bare]);
      const args = ['-S', '-K', dir, '-o', bare, '-f', out];
      if (opts.inception) args.push('-s', opts.inception);
      if (opts.expiration) args.push('-e', opts.expiration);
      // The post-signing check verifies at the current time: off for a window that is not current.
      if (opts.inception || opts.expiration) args.push('-P');
      if (nsec3) args.push('-3', opts.salt ?? '-', '-H', String(opts.iterations ?? 0));
      if (opts.chain === 'nsec3-optout') args.push('-A');
      await runChecked('dnssec-signzone', [...args, file], { cwd: dir });
      text = await runChecked('named-compilezone', ['-i', 'none', '-k', 'ignore', '-D', '-s', 'full', '-o', '-', bare, out]);
    } else {
      const ksk = (await runChecked('ldns-keygen', ['-a', 'ECDSAP256SHA256', '-k', bare], { cwd: dir })).trim();
      const zsk = (await runChecked('ldns-keygen', ['-a', 'ECDSAP256SHA256', bare], { cwd: dir })).trim();
      const args = ['-o', bare, '-f', out];
      if (opts.inception) args.push('-i', opts.inception);
      if (opts.expiration) args.push('-e', opts.expiration);
      if (nsec3) args.push('-n', '-t', String(opts.iterations ?? 0), ...(opts.salt ? ['-s', opts.salt] : []));
      if (opts.chain === 'nsec3-optout') args.push('-p');
      await runChecked('ldns-signzone', [...args, file, ksk, zsk], { cwd: dir });
      text = await runChecked('ldns-read-zone', [out]);
    }
    const ds = (await runChecked('dnssec-dsfromkey', ['-2', '-f', out, bare])).split('\n').filter((l) => /\sDS\s/.test(l));
    const origin = Name.fromText(zone);
    return { origin, text, records: readSignedRecords(text, origin), ds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A line without its comment: `;` outside a quoted string starts one (RFC 1035 §5.1). */
function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ';' && !quoted) return line.slice(0, i);
  }
  return line;
}

/**
 * Records from a signer's dump with one whole record per line, `owner TTL class TYPE RDATA` (named-compilezone
 * `-s full`, ldns-read-zone); comments and blank lines skipped. Not a master-file parser: no directives,
 * parentheses or relative owners.
 */
export function readSignedRecords(text: string, origin: Name): Rr[] {
  const out: Rr[] = [];
  for (const raw of text.split('\n')) {
    const line = stripComment(raw).trim();
    if (line === '') continue;
    const m = /^(\S+)\s+(\d+)\s+IN\s+(\S+)\s*(.*)$/i.exec(line);
    if (!m) throw new Error(`not a record line: ${raw}`);
    const type = typeFromName(m[3].toUpperCase());
    if (type === undefined) throw new Error(`unknown type in: ${raw}`);
    out.push({ name: Name.fromText(m[1]), type, class: RRClass.IN, ttl: Number(m[2]), rdata: parseRdata(type, m[4].trim(), origin) });
  }
  return out;
}

/**
 * A YAML zone file (`zone.dnssec.presigned: true`) holding `records` exactly: the SOA as zone.soa, every
 * other record in RFC 3597 generic form (`\\# len hex`), so the bytes the signer signed arrive unchanged.
 */
export function presignedYaml(origin: Name, records: Rr[]): string {
  const soa = records.find((r) => r.type === RRType.SOA)!;
  const [mname, rname, serial, refresh, retry, expire, minimum] = formatRdata(RRType.SOA, soa.rdata).split(' ');
  const lines = [
    'zone:',
    `  origin: ${origin.toString()}`,
    `  soa: { mname: ${mname}, rname: ${rname}, serial: ${serial}, refresh: ${refresh}, retry: ${retry}, expire: ${expire}, minimum: ${minimum}, ttl: ${soa.ttl} }`,
    '  dnssec: { presigned: true }',
    'records:',
  ];
  const owners = new Map<string, Map<number, Rr[]>>();
  for (const r of records) {
    if (r.type === RRType.SOA) continue;
    const key = r.name.equals(origin) ? '@' : r.name.relativeTo(origin);
    const byType = owners.get(key) ?? new Map<number, Rr[]>();
    owners.set(key, byType);
    byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
  }
  for (const [owner, byType] of owners) {
    lines.push(`  ${JSON.stringify(owner)}:`);
    for (const [type, rrs] of byType) {
      const values = rrs.map((r) => JSON.stringify(`\\# ${r.rdata.length} ${Buffer.from(r.rdata).toString('hex')}`));
      lines.push(`    - { type: ${typeName(type)}, ttl: ${Math.min(...rrs.map((r) => r.ttl))}, values: [${values.join(', ')}] }`);
    }
  }
  return lines.join('\n') + '\n';
}

/** The `zone:` configuration of a pre-signed zone (what `dnssec: { presigned: true }` parses to). */
export function presignedConfig(): ZoneConfig {
  return {
    dnssec: {
      enabled: false, denial: 'compact', signatureValidity: 14 * 86400, multiSigner: false, dnskeyTtl: 3600, dnskeySet: 'union',
      allowForeignAlgorithms: false, presigned: true,
    },
    serialPolicy: 'unixtime',
  };
}

/** A LoadedZone of pre-signed records, as the transfer client would make one. */
export function presignedLoaded(origin: Name, records: Rr[], file = `${origin.toString()}signed`): LoadedZone {
  return {
    defaultTtl: 300, file, config: presignedConfig(), warnings: [],
    input: { origin, source: file, settings: { dnssec: false, denial: 'compact', nameservers: [], nsTtl: 3600, multiProvider: false }, records },
    locations: { owners: new Map(), records: new Map() },
  };
}

/** Log lines of a test logger, parsed. */
export interface CapturedLogs {
  logger: Logger;
  lines: { level: number; msg: string; [k: string]: unknown }[];
}

export function captureLogs(level: 'debug' | 'info' | 'warn' = 'warn'): CapturedLogs {
  const lines: CapturedLogs['lines'] = [];
  const logger = pino({ level }, { write: (s: string) => { lines.push(JSON.parse(s)); } });
  return { logger, lines };
}

export interface ServedZones {
  host: string;
  port: number;
  stop(): Promise<void>;
}

/** A real tandem DNS listener (UDP and TCP; default an ephemeral loopback port) serving `zones` exactly. */
export async function serveZones(zones: Zone[], opts: { logger?: Logger; listen?: Endpoint } = {}): Promise<ServedZones> {
  const served = { zones: new ZoneSet(zones), signing: new Map() };
  const listen = [opts.listen ?? { host: '127.0.0.1', port: 0 }];
  const dns = await startDns({ config: { ...defaults, listen }, logger: opts.logger ?? pino({ level: 'silent' }) }, () => served);
  return { host: dns.addresses[0].host, port: dns.addresses[0].port, stop: () => dns.close() };
}

/**
 * An unsigned child zone served by its own listener, for a validator that follows a referral to it: `origin` with
 * an SOA, NS `ns.<origin>` at `address` (the glue the parent has), and `www` A 192.0.2.81.
 */
export function unsignedChild(origin: Name, address: string): Zone {
  const o = origin.toString();
  return buildZone({
    origin, source: o, settings: { dnssec: false, denial: 'compact', nameservers: [], nsTtl: 300, multiProvider: false },
    records: readSignedRecords([
      `${o} 300 IN SOA ns.${o} hostmaster.example.org. 1 3600 900 604800 300`,
      `${o} 300 IN NS ns.${o}`,
      `ns.${o} 300 IN A ${address}`,
      `www.${o} 300 IN A 192.0.2.81`,
    ].join('\n'), origin),
  });
}
