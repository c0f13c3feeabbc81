// `tandem ds`, `tandem keys`, `tandem dump`, `tandem import-bind`: read the zone's keys from the state folder
// (and the zone file); `ds` asks a running server instead when given its API.
import { join } from 'node:path';
import { pino } from 'pino';
import { Name } from '../dns/name.js';
import { RRType } from '../dns/types.js';
import { formatRdata } from '../dns/rdata.js';
import { dsRdata, parseDnskeyRdata, keyTag, isKsk } from '../dnssec/keys.js';
import { importBindKey, isPublished, readZoneKeyDir, zoneKeyDir, type StoredKey } from '../state/keystore.js';
import { buildLoadedZone, type LoadedZone } from '../config/zonefile.js';
import { loadZoneFileAsync } from '../state/offthread.js';
import { dumpSignedZone, dumpZone } from '../dnssec/dump.js';
import { prepareZone } from '../state/prepare.js';
import { loadSecondary } from '../state/secondary.js';
import { SignatureCache } from '../dnssec/cache.js';
import { systemClock } from '../dnssec/types.js';
import { defaults } from '../config/server.js';
import { adminDs, API_OPTIONS } from './admin.js';
import { defineCommand } from './spec.js';

function zoneName(text: string | undefined): Name {
  if (!text) throw new Error('missing ZONE argument');
  return Name.fromText(text.endsWith('.') ? text : `${text}.`);
}

async function ownKeys(state: string, zone: Name): Promise<StoredKey[]> {
  const dir = zoneKeyDir(state, zone);
  let keys: StoredKey[] = [];
  try {
    keys = await readZoneKeyDir(dir, zone);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (keys.length === 0) throw new Error(`no keys for ${zone} in ${dir}: enable DNSSEC for the zone and start the server once`);
  // A key a rollover removed (Delete reached) is no longer the zone's: its DS must not go to the registrar.
  const now = Date.now() / 1000;
  return keys.filter((k) => isPublished(k, now));
}

async function tryZoneFile(zones: string, zone: Name): Promise<LoadedZone | undefined> {
  const base = zone.key === '.' ? 'root' : zone.key.slice(0, -1);
  // A master file first: beside it, <zone>.yaml is its settings file (config/masterzone.ts).
  for (const ext of ['.zone', '.yaml', '.yml']) {
    try {
      return await loadZoneFileAsync(join(zones, base + ext));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || /ENOENT|cannot read/.test((err as Error).message)) continue;
      throw err;
    }
  }
  return undefined;
}

function dnskeyLine(zone: Name, ttl: number, rdata: Uint8Array): string {
  return `${zone.toString()} ${ttl} IN DNSKEY ${formatRdata(RRType.DNSKEY, rdata)}`;
}

const STATE = { type: 'string', value: 'DIR', default: defaults.state, help: 'the state folder: keys and admin state' } as const;
const ZONES = { type: 'string', value: 'DIR', default: defaults.zones, help: 'the zones folder' } as const;
const out = (s: string) => process.stdout.write(s + '\n');

export const dsCommand = defineCommand({
  name: 'ds', group: 'offline', summary: "the DS record(s) of the zone's KSK, for the registrar (from the state folder, or a running server with --api)",
  args: [{ name: 'ZONE' }],
  options: {
    // No parseArgs default for --state: given, it means "read the folder" even when TANDEM_API is set.
    ...API_OPTIONS,
    state: { type: 'string', value: 'DIR', defaultText: defaults.state, help: 'the state folder; given, it wins over TANDEM_API' },
    zones: ZONES,
    'digest-type': { type: 'string', value: '2|4|all', default: '2', help: 'SHA-256 (2), SHA-384 (4) or both' },
  },
  notes: ['Offline unless --api is given or TANDEM_API is set (then the running server answers, as `tandem status` does).'],
  async run(p, io) {
    const v = p.values;
    if (v.api !== undefined || (io.env.TANDEM_API && v.state === undefined)) return adminDs(v, p.args.ZONE!, io);
    const zone = zoneName(p.args.ZONE);
    const state = v.state ?? defaults.state;
    const keys = await ownKeys(state, zone);
    const loaded = await tryZoneFile(v.zones, zone);
    // The DS carries the served DNSKEY TTL (the parent may choose its own).
    const ttl = loaded?.config.dnssec.dnskeyTtl ?? 3600;
    const digestTypes = v['digest-type'] === 'all' ? [2, 4] as const : [Number(v['digest-type']) as 2 | 4];
    for (const t of digestTypes) if (t !== 2 && t !== 4) throw new Error('digest type must be 2 (SHA-256), 4 (SHA-384) or all');
    for (const k of keys.filter((k) => k.role === 'ksk')) {
      for (const t of digestTypes) out(`${zone.toString()} ${ttl} IN DS ${formatRdata(RRType.DS, dsRdata(zone, k.key.dnskey, t))}`);
    }
    return 0;
  },
});

export const keysCommand = defineCommand({
  name: 'keys', group: 'offline', summary: "the zone's keys: tag, role, source, algorithm, flags, DNSKEY RR",
  args: [{ name: 'ZONE' }],
  options: { state: STATE, zones: ZONES, zsk: { type: 'boolean', help: 'print only our ZSK as a DNSKEY RR (for the other providers)' } },
  async run(p) {
    const zone = zoneName(p.args.ZONE);
    const keys = await ownKeys(p.values.state, zone);
    const loaded = await tryZoneFile(p.values.zones, zone);
    const ttl = loaded?.config.dnssec.dnskeyTtl ?? 3600;
    if (p.values.zsk) {
      for (const k of keys.filter((k) => k.role === 'zsk')) out(dnskeyLine(zone, ttl, k.key.dnskey));
      return 0;
    }
    out('TAG    ROLE  SOURCE    ALG  FLAGS  DNSKEY');
    for (const k of keys) {
      out(`${String(k.key.keyTag).padEnd(6)} ${k.role.toUpperCase().padEnd(5)} ${'own'.padEnd(9)} ${String(k.key.algorithm).padEnd(4)} ${String(k.key.flags).padEnd(6)} ${dnskeyLine(zone, ttl, k.key.dnskey)}`);
    }
    for (const rr of loaded?.input.records.filter((r) => r.type === RRType.DNSKEY) ?? []) {
      const f = parseDnskeyRdata(rr.rdata);
      if (rr.ttl !== ttl) {
        process.stderr.write(`warning: imported key ${keyTag(rr.rdata)} has TTL ${rr.ttl}; the DNSKEY RRset is served with ${ttl} (zone.dnssec.dnskey_ttl)\n`);
      }
      out(`${String(keyTag(rr.rdata)).padEnd(6)} ${(isKsk(f.flags) ? 'KSK' : 'ZSK').padEnd(5)} ${'external'.padEnd(9)} ${String(f.algorithm).padEnd(4)} ${String(f.flags).padEnd(6)} ${dnskeyLine(zone, ttl, rr.rdata)}`);
    }
    return 0;
  },
});

export const dumpCommand = defineCommand({
  name: 'dump', group: 'offline', summary: 'the zone in RFC 1035 form on stdout (--signed: with RRSIGs and an NSEC chain, NSEC3 for nsec3-chain, as served)',
  args: [{ name: 'ZONE' }],
  options: { signed: { type: 'boolean', help: 'sign it with the zone\'s keys (DNSSEC must be on)' }, zones: ZONES, state: STATE },
  async run(p) {
    const zone = zoneName(p.args.ZONE);
    let loaded = await tryZoneFile(p.values.zones, zone);
    if (!loaded) throw new Error(`no zone file for ${zone} in ${p.values.zones}`);
    if (loaded.config.secondary) {
      // A secondary zone: its records are the last transfer kept in the state folder.
      const sec = await loadSecondary(loaded, p.values.state, systemClock.now(), pino({ level: 'silent' }));
      if (sec.unavailable) throw new Error(`${zone} is a secondary zone ${sec.unavailable}: nothing to dump (see tandem transfer ${zone})`);
      loaded = sec.loaded;
    }
    if (loaded.config.dnssec.presigned && p.values.signed) {
      // Served as transferred: the signed zone is the data itself.
      out((await dumpZone(buildLoadedZone(loaded))).trimEnd());
      return 0;
    }
    if (!p.values.signed) {
      out((await dumpZone(buildLoadedZone(loaded))).trimEnd());
      return 0;
    }
    if (!loaded.config.dnssec.enabled) throw new Error(`${loaded.file}: DNSSEC is not enabled for ${zone} (zone.dnssec.enabled)`);
    const prepared = await prepareZone(loaded, {
      zonesDir: p.values.zones, stateDir: p.values.state, clock: systemClock, logger: pino({ level: 'silent' }), cache: new SignatureCache({ max: 1000 }),
    });
    out((await dumpSignedZone(prepared.zone, prepared.signing!)).trimEnd());
    return 0;
  },
});

export const importBindCommand = defineCommand({
  name: 'import-bind', group: 'offline', summary: 'take over an existing BIND key pair (keep the KSK, so the DS at the parent stays)',
  args: [{ name: 'ZONE' }, { name: 'KFILE' }],
  options: { state: STATE },
  notes: ['KFILE is K<zone>.+013+<tag>.key or .private (the other file is read from beside it). Restart or SIGHUP the server to use the keys.'],
  async run(p) {
    const zone = zoneName(p.args.ZONE);
    const keys = await importBindKey(p.values.state, zone, p.args.KFILE!);
    out(`imported into ${zoneKeyDir(p.values.state, zone)}: KSK ${keys.ksk.keyTag}, ZSK ${keys.zsk.keyTag} (restart or SIGHUP the server to use them)`);
    return 0;
  },
});

export const KEY_COMMANDS = [dsCommand, keysCommand, dumpCommand, importBindCommand] as const;
