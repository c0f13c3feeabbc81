// tandem processes of a lab: each provider (and the parent) is a `tandem serve` of its own (own zones folder,
// keys and state), started detached on free loopback ports and driven through its admin API, as an operator
// would drive a provider: keys read from GET /dnssec and /dnssec/zsk, other providers' keys imported as DNSKEY
// records, their CDS/CDNSKEY published beside ours, DS records at the parent added and removed.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '../state/atomic.js';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Name } from '../dns/name.js';
import { RRType } from '../dns/types.js';
import { ask } from './ask.js';
import { freePort, spawnDetached, startDaemon } from './lab-procs.js';
import type { LabKey, LabProvider, LabState } from './lab-state.js';

/** The command that runs tandem itself: the built dist/cli/main.js, or src/cli/main.ts through tsx. */
export function tandemCommand(): string[] {
  const ts = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
  if (existsSync(ts)) {
    const loader = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/loader.mjs');
    return [process.execPath, '--import', pathToFileURL(loader).href, ts];
  }
  return [process.execPath, fileURLToPath(new URL('../cli/main.js', import.meta.url))];
}

/** The records every provider serves, in RFC 1035 form: one name of each kind `tandem check` asks about. */
export function labZoneText(s: Pick<LabState, 'zone' | 'ttl'>, nsNames: readonly string[]): string {
  return `$ORIGIN ${s.zone}
$TTL ${s.ttl}
@          IN SOA ns1.${nsNames[0]}.${s.zone} hostmaster.${s.zone} 1 3600 600 86400 ${s.ttl}
${nsNames.map((n) => `@          IN NS  ns1.${n}.${s.zone}`).join('\n')}
${nsNames.map((n) => `ns1.${n}  IN A   127.0.0.1`).join('\n')}
www        IN A   192.0.2.1
mail       IN MX  10 www.${s.zone}
a.b        IN TXT "deep"
alias      IN CNAME www.${s.zone}
*.wild     IN A   192.0.2.80
sub        IN NS  ns1.sub.${s.zone}
sub        IN DS  12345 13 2 85689FEAA6F14CAE5237B0318403E6BE6708C8C75A329240F8E0DCAD745ED6C9
ns1.sub    IN A   192.0.2.53
insecure   IN NS  ns1.example.net.
`;
}

/** The parent zone: the delegation to every provider's nameserver with glue; the DS records come by the API. */
export function parentZoneText(s: Pick<LabState, 'zone' | 'parentZone' | 'ttl'>, nsNames: readonly string[]): string {
  const rel = s.zone.slice(0, -s.parentZone.length - 1);
  return `$ORIGIN ${s.parentZone}
$TTL ${s.ttl}
@          IN SOA ns1.${s.parentZone} hostmaster.${s.parentZone} 1 3600 600 86400 ${s.ttl}
@          IN NS  ns1.${s.parentZone}
ns1        IN A   127.0.0.1
${nsNames.map((n) => `${rel}  IN NS  ns1.${n}.${s.zone}`).join('\n')}
${nsNames.map((n) => `ns1.${n}.${rel}  IN A   127.0.0.1`).join('\n')}
`;
}

function settingsYaml(o: { ttl: number; denial: string; multiSigner: boolean; tagRange?: string }): string {
  return `# written by tandem lab
zone:
  ttl: ${o.ttl}
  multi_provider: ${o.multiSigner}
  dnssec:
    enabled: true
    denial: ${o.denial}
    multi_signer: ${o.multiSigner}
    dnskey_ttl: ${o.ttl}
${o.tagRange ? `    key_tag_range: "${o.tagRange}"\n` : ''}`;
}

export interface TandemStart {
  name: string;
  dir: string;
  zone: string;
  zoneText: string;
  ttl: number;
  denial: string;
  multiSigner: boolean;
  tagRange?: string;
  token: string;
  /** Where the server asks for its DS (the lab's parent). */
  parentResolver?: string;
  /** The lab's folder: every process of the lab names it on its command line. */
  mark: string;
  timeoutMs: number;
  /** The DNS port to try first (chosen beforehand so others can be told it); a free one otherwise. */
  port?: number;
  onSpawn?: (pid: number) => Promise<void>;
}

/** Starts one `tandem serve`, retrying with fresh ports if one was taken meanwhile; resolves once the zone is signed. */
export async function startTandem(o: TandemStart): Promise<{ pid: number; port: number; api: number }> {
  const zones = join(o.dir, 'zones');
  const state = join(o.dir, 'state');
  await mkdir(zones, { recursive: true });
  await writeFileAtomic(join(zones, `${o.zone.slice(0, -1)}.zone`), o.zoneText);
  await writeFileAtomic(join(zones, `${o.zone.slice(0, -1)}.yaml`), settingsYaml(o));
  const log = join(o.dir, 'tandem.log');
  const [cmd, ...pre] = tandemCommand();
  let port = 0;
  return startDaemon({
    what: `${o.name} (tandem) serving ${o.zone} signed`, log, mark: o.mark, timeoutMs: o.timeoutMs, busy: /in use|EADDRINUSE/i, onSpawn: o.onSpawn,
    async spawn(attempt) {
      port = attempt === 0 && o.port ? o.port : await freePort();
      const api = await freePort();
      const pid = await spawnDetached(cmd, [...pre, 'serve', '--zones', zones, '--state', state, '--listen', `127.0.0.1:${port}`,
        '--api', `127.0.0.1:${api}`, `--api-token=${o.token}`, '--workers', '1', '--log-level', 'info',
        ...(o.parentResolver ? ['--parent-resolver', o.parentResolver] : [])], log);
      return { pid, port, api };
    },
    ready: (t) => servesSigned(t.port, o.zone),
  });
}

/** Whether the server on 127.0.0.1:port answers the zone's SOA with an RRSIG: loaded and signing. */
export async function servesSigned(port: number, zone: string): Promise<boolean> {
  const r = await ask({ host: '127.0.0.1', port }, Name.fromText(zone), RRType.SOA, { timeoutMs: 1000, tries: 1 });
  return r.ok && r.message.answer.some((rr) => rr.type === RRType.RRSIG);
}

/** The admin API of a lab tandem. */
export class TandemApi {
  private zoneId?: string;
  constructor(readonly port: number, readonly token: string, readonly zone: string) {}

  async call(method: string, path: string, body?: unknown): Promise<any> {
    const url = `http://127.0.0.1:${this.port}/client/v4${path}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json', 'x-tandem-source': 'cli' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
    } catch (e) {
      throw new Error(`${method} ${url}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
    }
    const json = (await res.json()) as { success: boolean; result: any; errors?: { message: string }[] };
    if (!json.success) throw new Error(`${method} ${url}: ${(json.errors ?? []).map((x) => x.message).join('; ')}`);
    return json.result;
  }

  async id(): Promise<string> {
    this.zoneId ??= (await this.call('GET', `/zones?name=${this.zone.slice(0, -1)}`))[0].id as string;
    return this.zoneId;
  }

  /** Our KSK and ZSK(s), and the DS of the KSK (digest type 2) with the lab's TTL. */
  async ownKeys(ttl: number): Promise<{ keys: LabKey[]; ds: string[] }> {
    const id = await this.id();
    const d = await this.call('GET', `/zones/${id}/dnssec`);
    const zsk = (await this.call('GET', `/zones/${id}/dnssec/zsk`)) as { Tag: string; Name: string; DNSKEY: { Flags: number; PublicKey: string } }[];
    const keys: LabKey[] = [{ tag: d.key_tag as number, flags: d.flags as number, publicKey: d.public_key as string }];
    for (const k of zsk.filter((x) => x.Tag !== 'external' && x.DNSKEY.Flags === 256)) {
      keys.push({ tag: Number(k.Name.split('+').pop()), flags: 256, publicKey: k.DNSKEY.PublicKey });
    }
    const rdata = String(d.ds).trim().split(/\s+/).slice(-4).join(' ');
    return { keys, ds: [`${this.zone} ${ttl} IN DS ${rdata}`] };
  }

  async records(type: string): Promise<{ id: string; content: string; name: string }[]> {
    return this.call('GET', `/zones/${await this.id()}/dns_records?type=${type}&per_page=5000`);
  }

  /** Adds a record; a TTL below the API's minimum (30) is sent as 1, "automatic": the zone's TTL, the lab's. */
  async add(type: string, name: string, content: string, ttl: number): Promise<void> {
    await this.call('POST', `/zones/${await this.id()}/dns_records`, { type, name: name.replace(/\.$/, ''), content, ttl: ttl < 30 ? 1 : ttl });
  }

  /** Deletes the records of `type` at `name` whose content matches (whitespace and case of hex aside). */
  async remove(type: string, name: string, match: (content: string) => boolean): Promise<number> {
    const want = name.replace(/\.$/, '').toLowerCase();
    const hits = (await this.records(type)).filter((r) => r.name.replace(/\.$/, '').toLowerCase() === want && match(r.content));
    for (const h of hits) await this.call('DELETE', `/zones/${await this.id()}/dns_records/${h.id}`);
    return hits.length;
  }
}

/** Whitespace-free, case-folded RDATA text, for matching records across tools. */
export const sameRdata = (a: string, b: string): boolean => a.replace(/\s+/g, '').toLowerCase() === b.replace(/\s+/g, '').toLowerCase();

export const dnskeyContent = (k: LabKey): string => `${k.flags} 3 13 ${k.publicKey}`;

/** A provider's public material as another provider imports it: DNSKEYs (ZSKs; KSKs too with union), CDS and CDNSKEY. */
export function materialOf(p: LabProvider, union: boolean): { dnskeys: LabKey[]; cds: string[]; cdnskey: string[] } {
  return {
    dnskeys: p.keys.filter((k) => k.flags === 256 || union),
    cds: p.ds.map((d) => d.trim().split(/\s+/).slice(-4).join(' ')),
    cdnskey: p.keys.filter((k) => k.flags === 257).map(dnskeyContent),
  };
}
