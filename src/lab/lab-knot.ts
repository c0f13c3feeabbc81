// Knot DNS as a provider of a lab: knotd started detached with the config of knot-conf.ts (dnskey-management
// incremental), its keys read with keymgr, the other providers' DNSKEY, CDS and CDNSKEY records written into its
// zone file beside the lab's records and reloaded with knotc (the lab notes' "way 2": the only way Knot puts
// another provider's KSK into its CDS/CDNSKEY).
import { mkdir } from 'node:fs/promises';
import { writeFileAtomic } from '../state/atomic.js';
import { join } from 'node:path';
import { knotConf } from './knot-conf.js';
import { freePort, runTool, spawnDetached, startDaemon } from './lab-procs.js';
import type { LabKey } from './lab-state.js';
import { servesSigned } from './lab-tandem.js';

export const knotPaths = (dir: string) => ({ conf: join(dir, 'knot.conf'), zoneFile: join(dir, 'zone.db'), log: join(dir, 'knot.log') });

/** Knot's zone file: the lab's records, then the foreign apex records (`TYPE RDATA` at the apex). */
function zoneFileText(zone: string, zoneText: string, foreign: readonly string[]): string {
  return `${zoneText}\n$ORIGIN ${zone}\n; other providers' keys and CDS/CDNSKEY (multi-signer)\n${foreign.map((r) => `@ IN ${r}`).join('\n')}\n`;
}

export async function startKnotProvider(o: { name: string; dir: string; zone: string; zoneText: string; denial: string; mark: string; timeoutMs: number; onSpawn?: (pid: number) => Promise<void> }): Promise<{ pid: number; port: number }> {
  const { conf, zoneFile, log } = knotPaths(o.dir);
  for (const sub of ['run', 'db', 'keys']) await mkdir(join(o.dir, sub), { recursive: true });
  await writeFileAtomic(zoneFile, zoneFileText(o.zone, o.zoneText, []));
  return startDaemon({
    what: `${o.name} (knotd) serving ${o.zone} signed`, log, mark: o.mark, timeoutMs: o.timeoutMs, busy: /address already in use|failed to bind/i, onSpawn: o.onSpawn,
    async spawn(attempt) {
      const port = await freePort();
      await writeFileAtomic(conf, knotConf({ dir: o.dir, port, zone: o.zone, zoneFile, nsec3: o.denial === 'nsec3', incremental: true }));
      if (attempt === 0) await runTool('knotc', ['-c', conf, 'conf-check']);
      return { pid: await spawnDetached('knotd', ['-c', conf], log), port };
    },
    ready: (k) => servesSigned(k.port, o.zone),
  });
}

/** Knot's own keys (not the public-only ones) and the DS (digest type 2) of its KSK. */
export async function knotKeys(dir: string, zone: string, ttl: number): Promise<{ keys: LabKey[]; ds: string[] }> {
  const { conf } = knotPaths(dir);
  const list = JSON.parse(await runTool('keymgr', ['-c', conf, '-j', zone, 'list'])) as { id: string; tag: number; ksk: boolean; 'public-only': boolean }[];
  const keys: LabKey[] = [];
  for (const k of list.filter((x) => !x['public-only'])) {
    const rr = (await runTool('keymgr', ['-c', conf, zone, 'dnskey', k.id])).trim().split(/\s+/);
    const at = rr.indexOf('DNSKEY');
    keys.push({ tag: k.tag, flags: Number(rr[at + 1]), publicKey: rr.slice(at + 4).join('') });
  }
  const ds = (await runTool('keymgr', ['-c', conf, zone, 'ds'])).split('\n').map((l) => l.trim().split(/\s+/))
    .filter((t) => t.includes('DS') && t[t.indexOf('DS') + 3] === '2')
    .map((t) => { const at = t.indexOf('DS'); return `${zone} ${ttl} IN DS ${t[at + 1]} ${t[at + 2]} 2 ${t.slice(at + 4).join('').toUpperCase()}`; });
  return { keys, ds };
}

/** Rewrites Knot's zone file with `foreign` (`DNSKEY ...`, `CDS ...`, `CDNSKEY ...`) after the lab's records, and reloads. */
export async function setKnotForeign(o: { dir: string; zone: string; zoneText: string }, foreign: readonly string[]): Promise<void> {
  const { conf, zoneFile } = knotPaths(o.dir);
  await writeFileAtomic(zoneFile, zoneFileText(o.zone, o.zoneText, foreign));
  await runTool('knotc', ['-c', conf, '-t', '10', '-b', 'zone-reload', o.zone]);
}
