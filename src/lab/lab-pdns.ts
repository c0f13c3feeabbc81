// PowerDNS Authoritative 4.7 (gsqlite3) as a provider of a lab: its own ECDSA P-256 KSK + ZSK (secure-zone),
// CDS/CDNSKEY published, `direct-dnskey` so DNSKEY/CDS/CDNSKEY records of the zone's data join its own (RFC 8901
// model 2; facts in the shared lab notes). Caches off, so a zone loaded with pdnsutil is served at once; security
// polling off (nothing leaves the machine). The other providers' records are written into its zone text, which
// `pdnsutil load-zone` replaces whole (the keys stay), as for Knot.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Name } from '../dns/name.js';
import { parseRdata } from '../dns/rdata.js';
import { RRType } from '../dns/types.js';
import { keyTag } from '../dnssec/keys.js';
import { writeFileAtomic } from '../state/atomic.js';
import { freePort, runTool, spawnDetached, startDaemon } from './lab-procs.js';
import type { LabKey } from './lab-state.js';
import { servesSigned } from './lab-tandem.js';

const SCHEMA = '/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql';
export const PDNS_TOOLS = ['pdns_server', 'pdnsutil', 'sqlite3'];

const paths = (dir: string) => ({ db: join(dir, 'pdns.db'), zoneFile: join(dir, 'zone.db'), log: join(dir, 'pdns.log') });
const pdnsutil = (dir: string, args: string[]) => runTool('pdnsutil', [`--config-dir=${dir}`, ...args]);

function zoneFileText(zone: string, zoneText: string, foreign: readonly string[]): string {
  return `${zoneText}\n$ORIGIN ${zone}\n${foreign.map((r) => `@ IN ${r}`).join('\n')}\n`;
}

export async function startPdnsProvider(o: { name: string; dir: string; zone: string; zoneText: string; denial: string; mark: string; timeoutMs: number; onSpawn?: (pid: number) => Promise<void> }): Promise<{ pid: number; port: number }> {
  const { db, zoneFile, log } = paths(o.dir);
  const bare = o.zone.slice(0, -1);
  await mkdir(o.dir, { recursive: true });
  let schema: string;
  try {
    schema = await readFile(SCHEMA, 'utf8');
  } catch {
    throw new Error(`${SCHEMA} is missing: apt-get install pdns-backend-sqlite3`);
  }
  await runTool('sqlite3', [db], { input: schema });
  await writeFileAtomic(zoneFile, zoneFileText(o.zone, o.zoneText, []));
  return startDaemon({
    what: `${o.name} (pdns_server) serving ${o.zone} signed`, log, mark: o.mark, timeoutMs: o.timeoutMs, busy: /address already in use|unable to bind/i, onSpawn: o.onSpawn,
    async spawn(attempt) {
      const port = await freePort();
      await writeFileAtomic(join(o.dir, 'pdns.conf'), [
        'launch=gsqlite3', `gsqlite3-database=${db}`, 'gsqlite3-dnssec=yes',
        'local-address=127.0.0.1', `local-port=${port}`, `socket-dir=${o.dir}`,
        'daemon=no', 'guardian=no', 'disable-syslog=yes', 'write-pid=no', 'security-poll-suffix=',
        'default-ksk-algorithm=ecdsa256', 'default-zsk-algorithm=ecdsa256', 'direct-dnskey=yes',
        'cache-ttl=0', 'negquery-cache-ttl=0', 'query-cache-ttl=0', 'zone-cache-refresh-interval=0', 'loglevel=4', '',
      ].join('\n'));
      if (attempt === 0) {
        await pdnsutil(o.dir, ['load-zone', bare, zoneFile]);
        await pdnsutil(o.dir, ['secure-zone', bare]);
        if (o.denial === 'nsec3') await pdnsutil(o.dir, ['set-nsec3', bare, '1 0 0 -']);
        await pdnsutil(o.dir, ['set-publish-cds', bare, '2']);
        await pdnsutil(o.dir, ['set-publish-cdnskey', bare]);
        await pdnsutil(o.dir, ['rectify-zone', bare]);
      }
      return { pid: await spawnDetached('pdns_server', [`--config-dir=${o.dir}`], log), port };
    },
    ready: (p) => servesSigned(p.port, o.zone),
  });
}

/** PowerDNS's own keys (from `pdnsutil show-zone`) and the DS (SHA-256) of its KSK. */
export async function pdnsKeys(dir: string, zone: string, ttl: number): Promise<{ keys: LabKey[]; ds: string[] }> {
  const out = await pdnsutil(dir, ['show-zone', zone.slice(0, -1)]);
  const origin = Name.fromText(zone);
  const keys = [...out.matchAll(/^(?:KSK|ZSK|CSK) DNSKEY = \S+ IN DNSKEY (\d+) (\d+) (\d+) ([^;]+?)\s*;/gm)].map((m) => {
    const publicKey = m[4].replace(/\s+/g, '');
    return { tag: keyTag(parseRdata(RRType.DNSKEY, `${m[1]} ${m[2]} ${m[3]} ${publicKey}`, origin)), flags: Number(m[1]), publicKey };
  });
  const ds = [...out.matchAll(/^DS = \S+ IN DS (\d+) (\d+) 2 ([0-9a-fA-F]+)/gm)].map((m) => `${zone} ${ttl} IN DS ${m[1]} ${m[2]} 2 ${m[3].toUpperCase()}`);
  return { keys, ds: [...new Set(ds)] };
}

/** Loads the zone text with the foreign records (`TYPE RDATA` at the apex) into PowerDNS, replacing its data. */
export async function setPdnsForeign(o: { dir: string; zone: string; zoneText: string }, foreign: readonly string[]): Promise<void> {
  const { zoneFile } = paths(o.dir);
  const bare = o.zone.slice(0, -1);
  await writeFileAtomic(zoneFile, zoneFileText(o.zone, o.zoneText, foreign));
  await pdnsutil(o.dir, ['load-zone', bare, zoneFile]);
  await pdnsutil(o.dir, ['rectify-zone', bare]);
}
