// PowerDNS Authoritative 4.7 (gsqlite3 backend) as a signing provider in tests: a zone secured with an ECDSA P-256
// KSK + ZSK, NSEC or NSEC3, CDS/CDNSKEY published, and `direct-dnskey` on so DNSKEY/CDS/CDNSKEY records added to
// the backend join its own (RFC 8901 model 2; facts in the shared lab notes). Caches off, so a change made with
// pdnsutil is served at once; security polling off (nothing leaves the machine). Free loopback port, temp dir,
// stopped by PID (procs.ts).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dig } from './dig.js';
import { freePort, orRemove, runChecked, spawnDaemon, startDaemonWithRetry, waitFor } from './procs.js';

export interface PdnsOptions {
  /** Zone name with the final dot. */
  zone: string;
  zoneText: string;
  denial?: 'nsec' | 'nsec3';
  /** A TSIG key that may UPDATE the zone (`dnsupdate=yes`, TSIG-ALLOW-DNSUPDATE); DNSKEY/CDS/CDNSKEY so added join its own (direct-dnskey). */
  updateKey?: { name: string; algorithm: string; secret: string };
}

export interface PdnsInstance {
  host: string;
  port: number;
  dir: string;
  pid: number;
  /** PowerDNS's own keys as `zone. IN DNSKEY ...` and their DS (SHA-256), from `pdnsutil show-zone`. */
  keys(): Promise<{ dnskeys: string[]; ds: string[] }>;
  /** `pdnsutil add-record ZONE @ TYPE TTL RDATA` for each, then rectify; resolves once every one is served. */
  addApexRecords(records: { type: string; ttl: number; rdata: string }[]): Promise<void>;
  /** `pdnsutil replace-rrset` of one apex type with `rdatas` (none: delete), then rectify. */
  replaceApexRRset(type: string, ttl: number, rdatas: string[]): Promise<void>;
  logs(): string;
  stop(): Promise<void>;
}

export async function startPdns(opts: PdnsOptions): Promise<PdnsInstance> {
  const zone = opts.zone;
  const bare = zone.replace(/\.$/, '');
  const dir = await mkdtemp(join(tmpdir(), 'tandem-pdns-'));
  const db = join(dir, 'pdns.db');
  const pdnsutil = (args: string[]) => runChecked('pdnsutil', [`--config-dir=${dir}`, ...args], { timeoutMs: 20_000 });
  let port = 0;
  const target = () => ({ host: '127.0.0.1', port });
  const d = await orRemove(dir, async () => {
    await runChecked('sqlite3', [db], { input: await readFile('/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql', 'utf8') });
    await writeFile(join(dir, 'zone.db'), opts.zoneText);
    return startDaemonWithRetry({
      name: 'pdns_server',
      busy: /address already in use|unable to bind/i,
      start: async (attempt) => {
        port = await freePort();
        await writeFile(join(dir, 'pdns.conf'), [
          'launch=gsqlite3', `gsqlite3-database=${db}`, 'gsqlite3-dnssec=yes',
          'local-address=127.0.0.1', `local-port=${port}`, `socket-dir=${dir}`,
          'daemon=no', 'guardian=no', 'disable-syslog=yes', 'write-pid=no', 'security-poll-suffix=',
          'default-ksk-algorithm=ecdsa256', 'default-zsk-algorithm=ecdsa256', 'direct-dnskey=yes',
          'cache-ttl=0', 'negquery-cache-ttl=0', 'query-cache-ttl=0', 'zone-cache-refresh-interval=0', 'loglevel=4',
          ...(opts.updateKey ? ['dnsupdate=yes', 'allow-dnsupdate-from=127.0.0.0/8'] : []), '',
        ].join('\n'));
        if (attempt === 0) {
          await pdnsutil(['load-zone', bare, join(dir, 'zone.db')]);
          await pdnsutil(['secure-zone', bare]);
          if (opts.denial === 'nsec3') await pdnsutil(['set-nsec3', bare, '1 0 0 -']);
          await pdnsutil(['set-publish-cds', bare, '2']);
          await pdnsutil(['set-publish-cdnskey', bare]);
          await pdnsutil(['rectify-zone', bare]);
          if (opts.updateKey) {
            const k = opts.updateKey;
            await pdnsutil(['import-tsig-key', k.name, k.algorithm, k.secret]);
            await pdnsutil(['set-meta', bare, 'TSIG-ALLOW-DNSUPDATE', k.name]);
          }
        }
        return spawnDaemon('pdns_server', [`--config-dir=${dir}`], { name: 'pdns_server' });
      },
      ready: (daemon) => waitFor(async () => {
        const r = await dig(target(), ['+dnssec', '+norec', zone, 'SOA']);
        return r.answer.some((x) => x.type === 'RRSIG') || undefined;
      }, 15_000, { what: `pdns_server serving ${zone}`, intervalMs: 150, abort: () => (daemon.exited() ? 'pdns_server exited' : undefined) }),
    });
  });

  const servedHas = async (type: string, rdata: string, present: boolean) => {
    const r = await dig(target(), ['+norec', zone, type]);
    const want = rdata.replace(/\s+/g, '').toLowerCase();
    return r.answer.some((x) => x.type === type && x.data.replace(/\s+/g, '').toLowerCase() === want) === present;
  };

  return {
    host: '127.0.0.1', port, dir, pid: d.pid, logs: () => d.logs(),
    async keys() {
      const out = await pdnsutil(['show-zone', bare]);
      const dnskeys = [...out.matchAll(/^(?:KSK|ZSK|CSK) DNSKEY = (\S+ IN DNSKEY [^;]+?)\s*;/gm)].map((m) => m[1].trim());
      const ds = [...out.matchAll(/^DS = (\S+ IN DS \d+ \d+ 2 [0-9a-f]+)/gm)].map((m) => m[1]);
      return { dnskeys, ds };
    },
    async addApexRecords(records) {
      for (const r of records) await pdnsutil(['add-record', bare, '@', r.type, String(r.ttl), r.rdata]);
      await pdnsutil(['rectify-zone', bare]);
      await waitFor(async () => {
        for (const r of records) if (!(await servedHas(r.type, r.rdata, true))) return undefined;
        return true;
      }, 10_000, { what: 'pdns_server serving the added records', intervalMs: 100 });
    },
    async replaceApexRRset(type, ttl, rdatas) {
      await pdnsutil(['replace-rrset', bare, '@', type, String(ttl), ...rdatas]);
      await pdnsutil(['rectify-zone', bare]);
    },
    async stop() {
      await d.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
