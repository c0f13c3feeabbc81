// `tandem ds`, `tandem keys`, `tandem dump`: read the zone's keys from the state folder (and the zone file).
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { pino } from 'pino';
import { Name } from '../dns/name.js';
import { RRType } from '../dns/types.js';
import { formatRdata } from '../dns/rdata.js';
import { dsRdata, parseDnskeyRdata, keyTag, isKsk } from '../dnssec/keys.js';
import { importBindKey, readZoneKeyDir, zoneKeyDir, type StoredKey } from '../state/keystore.js';
import { buildLoadedZone, type LoadedZone } from '../config/zonefile.js';
import { loadZoneFileAsync } from '../state/offthread.js';
import { dumpSignedZone, dumpZone } from '../dnssec/dump.js';
import { prepareZone } from '../state/prepare.js';
import { SignatureCache } from '../dnssec/cache.js';
import { systemClock } from '../dnssec/types.js';
import { defaults } from '../config/server.js';

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
  return keys;
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

export async function runKeyCommand(cmd: 'ds' | 'keys' | 'dump' | 'import-bind', argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      state: { type: 'string', default: defaults.state },
      zones: { type: 'string', default: defaults.zones },
      zsk: { type: 'boolean', default: false },
      signed: { type: 'boolean', default: false },
      'digest-type': { type: 'string', default: '2' },
    },
    allowPositionals: true,
    strict: true,
  });
  const zone = zoneName(positionals[0]);
  const out = (s: string) => process.stdout.write(s + '\n');

  if (cmd === 'import-bind') {
    // Move a zone to tandem without a new KSK: take over an existing BIND key pair (K<zone>.+013+<tag>).
    if (!positionals[1]) throw new Error('usage: tandem import-bind ZONE K<zone>.+013+<tag>[.key|.private] [--state DIR]');
    const keys = await importBindKey(values.state!, zone, positionals[1]);
    out(`imported into ${zoneKeyDir(values.state!, zone)}: KSK ${keys.ksk.keyTag}, ZSK ${keys.zsk.keyTag} (restart or SIGHUP the server to use them)`);
    return 0;
  }

  if (cmd === 'dump') {
    const loaded = await tryZoneFile(values.zones!, zone);
    if (!loaded) throw new Error(`no zone file for ${zone} in ${values.zones}`);
    if (!values.signed) {
      out((await dumpZone(buildLoadedZone(loaded))).trimEnd());
      return 0;
    }
    if (!loaded.config.dnssec.enabled) throw new Error(`${loaded.file}: DNSSEC is not enabled for ${zone} (zone.dnssec.enabled)`);
    const prepared = await prepareZone(loaded, {
      zonesDir: values.zones!, stateDir: values.state!, clock: systemClock, logger: pino({ level: 'silent' }), cache: new SignatureCache({ max: 1000 }),
    });
    out((await dumpSignedZone(prepared.zone, prepared.signing!)).trimEnd());
    return 0;
  }

  const keys = await ownKeys(values.state!, zone);
  const loaded = await tryZoneFile(values.zones!, zone);
  // DNSKEY lines carry the served DNSKEY TTL; the DS the same (the parent may choose its own).
  const ttl = loaded?.config.dnssec.dnskeyTtl ?? 3600;
  if (cmd === 'ds') {
    const digestTypes = values['digest-type'] === 'all' ? [2, 4] as const : [Number(values['digest-type']) as 2 | 4];
    for (const t of digestTypes) if (t !== 2 && t !== 4) throw new Error(`digest type must be 2 (SHA-256), 4 (SHA-384) or all`);
    for (const k of keys.filter((k) => k.role === 'ksk')) {
      for (const t of digestTypes) out(`${zone.toString()} ${ttl} IN DS ${formatRdata(RRType.DS, dsRdata(zone, k.key.dnskey, t))}`);
    }
    return 0;
  }
  // keys
  if (values.zsk) {
    for (const k of keys.filter((k) => k.role === 'zsk')) out(dnskeyLine(zone, ttl, k.key.dnskey));
    return 0;
  }
  out('TAG    ROLE  SOURCE    ALG  FLAGS  DNSKEY');
  for (const k of keys) {
    out(`${String(k.key.keyTag).padEnd(6)} ${k.role.toUpperCase().padEnd(5)} ${'own'.padEnd(9)} ${String(k.key.algorithm).padEnd(4)} ${String(k.key.flags).padEnd(6)} ${dnskeyLine(zone, loaded?.config.dnssec.dnskeyTtl ?? ttl, k.key.dnskey)}`);
  }
  const dnskeyTtl = loaded?.config.dnssec.dnskeyTtl ?? ttl;
  for (const rr of loaded?.input.records.filter((r) => r.type === RRType.DNSKEY) ?? []) {
    const f = parseDnskeyRdata(rr.rdata);
    if (rr.ttl !== dnskeyTtl) {
      process.stderr.write(`warning: imported key ${keyTag(rr.rdata)} has TTL ${rr.ttl}; the DNSKEY RRset is served with ${dnskeyTtl} (zone.dnssec.dnskey_ttl)\n`);
    }
    out(`${String(keyTag(rr.rdata)).padEnd(6)} ${(isKsk(f.flags) ? 'KSK' : 'ZSK').padEnd(5)} ${'external'.padEnd(9)} ${String(f.algorithm).padEnd(4)} ${String(f.flags).padEnd(6)} ${dnskeyLine(zone, ttl, rr.rdata)}`);
  }
  return 0;
}
