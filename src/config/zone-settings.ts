// The `zone:` section of a zone file: tandem's own settings (origin, default TTL, the SOA, the server's
// nameservers, DNSSEC). Everything here is validated strictly; an unknown key is an error, not a silent typo.
import { Name, NameError } from '../dns/name.js';
import type { DenialMode, ZoneSettings } from '../zone/types.js';
import { MAX_TTL, parseDuration } from './duration.js';
import { isSeq } from 'yaml';
import { asMap, checkKeys, entries, fail, isNull, lineOf, scalarText, type Entry, type Source } from './yaml-nodes.js';
import { parseTransferSettings, type TransferSettings } from './transfer-settings.js';
import { parseUpdateSettings, type UpdateGrant } from './update-settings.js';
import { parseSyncSettings, type SyncPeer } from './sync-settings.js';

/** Zone-level settings beyond ZoneSettings that other layers need (issue 3 signing, issue 4 multi-signer). */
export interface ZoneConfig extends TransferSettings {
  dnssec: {
    enabled: boolean;
    denial: DenialMode;
    /** `nsec3_opt_out` (only with `denial: nsec3-chain`): RFC 5155 §6 Opt-Out, for zones of many unsigned delegations. */
    nsec3OptOut?: boolean;
    signatureValidity: number;
    multiSigner: boolean;
    /** TTL of the served DNSKEY RRset (one TTL for own and imported keys). */
    dnskeyTtl: number;
    /** 'union' (NS1, Knot): every imported key is served; 'own-ksk' (Cloudflare): other providers' KSKs left out. */
    dnskeySet: 'union' | 'own-ksk';
    /** Key tags our new keys must fall in (BIND's tag-range), so providers never collide. */
    keyTagRange?: [number, number];
    /** Accept imported keys of another algorithm than ours (RFC 8901 §4 says all providers should share one). */
    allowForeignAlgorithms: boolean;
    /**
     * The records come signed (RRSIG, DNSKEY, NSEC or NSEC3, CDS/CDNSKEY) and are served as given, with no
     * signing of ours (issue 11, Cloudflare's `dnssec_presigned`); excludes `enabled` and `multi_signer`.
     */
    presigned: boolean;
  };
  /** RFC 2136 UPDATE grants (config/update-settings.ts); absent: the zone takes no UPDATE (REFUSED). */
  update?: UpdateGrant[];
  /** The other signers tandem exchanges keys with (config/sync-settings.ts, update/sync/); absent: none. */
  sync?: SyncPeer[];
}

export interface SoaFields {
  mname: Name;
  rname: Name;
  serial: number;
  /** False when `serial` is the file's mtime (no `zone.soa.serial`). */
  serialExplicit: boolean;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
  ttl: number;
}

export interface ParsedSettings {
  origin: Name;
  /** Default TTL of records without one. */
  ttl: number;
  /** Undefined when the file has no `zone.soa` (an error once records are built). */
  soa?: SoaFields;
  soaLine?: number;
  settings: ZoneSettings;
  config: ZoneConfig;
  nameserversLine?: number;
}

export const ZONE_KEYS = ['origin', 'ttl', 'soa', 'nameservers', 'ns_ttl', 'multi_provider', 'dnssec', 'serial_policy', 'transfer', 'secondary', 'update', 'sync'] as const;
const SOA_KEYS = ['mname', 'rname', 'serial', 'refresh', 'retry', 'expire', 'minimum', 'ttl'] as const;
const DNSSEC_KEYS = ['enabled', 'denial', 'nsec3_opt_out', 'signature_validity', 'multi_signer', 'dnskey_ttl', 'dnskey_set', 'key_tag_range', 'allow_foreign_algorithms', 'presigned'] as const;
const DENIAL: readonly DenialMode[] = ['compact', 'nsec', 'nsec3', 'nsec3-chain', 'nsec-chain'];

export const DEFAULT_TTL = 3600;
/** SOA timers when not given: the RIPE-203 recommendations (refresh 1d, retry 2h, expire 1000h, minimum 1h). */
const SOA_DEFAULTS = { refresh: 86400, retry: 7200, expire: 3600000, minimum: 3600 };
/** Default RRSIG validity period: two weeks, the span BIND and Knot also default to. */
const DEFAULT_SIGNATURE_VALIDITY = 14 * 86400;
/** Validity bounds: below an hour signatures churn needlessly; past a year a leaked signature lives too long. */
const MIN_SIGNATURE_VALIDITY = 3600;
const MAX_SIGNATURE_VALIDITY = 366 * 86400;

export function originFromFileName(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(/\.ya?ml$/i, '');
}

/** Parses `zone:` (or its absence). `mtime` feeds the default SOA serial. */
export function parseSettings(src: Source, node: unknown, mtime: Date | undefined): ParsedSettings {
  const items = isNull(node) ? [] : entries(src, asMap(src, node, 'zone'));
  if (items.some((e) => e.key === 'type')) {
    fail(src, node, 'zone: is tandem\'s settings section; records for the owner "zone" go under records:');
  }
  checkKeys(src, items, ZONE_KEYS, 'zone');
  const get = (k: string): Entry | undefined => items.find((e) => e.key === k);

  const originEntry = get('origin');
  let originText = originFromFileName(src.file);
  if (originEntry) originText = stringValue(src, originEntry, 'zone.origin');
  if (!originText.endsWith('.')) originText += '.';
  let origin: Name;
  try {
    origin = Name.fromText(originText);
  } catch (e) {
    fail(src, originEntry?.value, `zone origin ${JSON.stringify(originText)} is not a domain name: ${(e as Error).message}` +
      (originEntry ? '' : ' (set zone.origin or name the file <zone>.yaml)'));
  }

  const ttlEntry = get('ttl');
  const ttl = ttlEntry ? ttlValue(src, ttlEntry.value, 'zone.ttl') : DEFAULT_TTL;
  const nsTtlEntry = get('ns_ttl');
  const nsTtl = nsTtlEntry ? ttlValue(src, nsTtlEntry.value, 'zone.ns_ttl') : ttl;

  const nsEntry = get('nameservers');
  const nameservers: Name[] = [];
  if (nsEntry && !isNull(nsEntry.value)) {
    if (!isSeq(nsEntry.value)) fail(src, nsEntry.value, 'zone.nameservers must be a list of names');
    for (const item of nsEntry.value.items) nameservers.push(nameValue(src, item, origin, 'zone.nameservers'));
  }
  const mpEntry = get('multi_provider');
  const multiProvider = mpEntry ? boolValue(src, mpEntry.value, 'zone.multi_provider') : false;

  const soaEntry = get('soa');
  const soa = soaEntry ? parseSoa(src, soaEntry.value, origin, ttl, mtime) : undefined;

  const config: ZoneConfig = { ...parseDnssec(src, get('dnssec')?.value), ...parseTransferSettings(src, get) };
  const updateEntry = get('update');
  if (updateEntry && !isNull(updateEntry.value)) {
    // Their records come from elsewhere: a secondary's by transfer (UPDATE forwarding to the primary is not
    // done), a pre-signed zone's signed by its source.
    if (config.secondary) fail(src, updateEntry.keyNode, 'zone.update cannot be used with zone.secondary: a secondary zone changes by transfer from its primary; send UPDATE to the primary');
    if (config.dnssec.presigned) fail(src, updateEntry.keyNode, 'zone.update cannot be used with zone.dnssec.presigned: the records come signed from their source');
    config.update = parseUpdateSettings(src, updateEntry.value, origin);
  }
  const syncEntry = get('sync');
  if (syncEntry && !isNull(syncEntry.value)) {
    // Key sync publishes our keys and imports the peers' (RFC 8901 model 2): a zone we sign, with imports on.
    const why = config.secondary ? 'a secondary zone\'s keys come by transfer from its primary'
      : config.dnssec.presigned ? 'a pre-signed zone has no keys of ours'
      : !config.dnssec.enabled ? 'the zone is not signed (dnssec.enabled: true)'
      : !config.dnssec.multiSigner ? 'the peers\' keys are imported only with dnssec.multi_signer: true'
      : undefined;
    if (why) fail(src, syncEntry.keyNode, `zone.sync cannot be used here: ${why}`);
    const peers = parseSyncSettings(src, syncEntry.value);
    if (peers.length > 0) config.sync = peers;
  }
  if (config.dnssec.presigned) {
    // The apex NS RRset is signed as it is in the data: serving other nameservers would break its RRSIG.
    for (const k of ['nameservers', 'multi_provider'] as const) {
      const e = get(k);
      if (e) fail(src, e.keyNode, `zone.${k} cannot be used with zone.dnssec.presigned: the apex NS records are served as signed (RFC 4035 §2.2)`);
    }
  }
  const settings: ZoneSettings = {
    dnssec: config.dnssec.enabled,
    denial: config.dnssec.denial,
    ...(config.dnssec.nsec3OptOut ? { nsec3OptOut: true } : {}),
    nameservers,
    nsTtl,
    multiProvider,
  };
  return {
    origin, ttl, soa, soaLine: lineOf(src, soaEntry?.keyNode), settings, config,
    nameserversLine: lineOf(src, nsEntry?.keyNode),
  };
}

function parseSoa(src: Source, node: unknown, origin: Name, ttl: number, mtime: Date | undefined): SoaFields {
  const items = entries(src, asMap(src, node, 'zone.soa'));
  checkKeys(src, items, SOA_KEYS, 'zone.soa');
  const get = (k: string) => items.find((e) => e.key === k);
  const mnameEntry = get('mname');
  const rnameEntry = get('rname');
  if (!mnameEntry) fail(src, node, 'zone.soa.mname is required (the primary nameserver, RFC 1035 §3.3.13)');
  if (!rnameEntry) fail(src, node, 'zone.soa.rname is required (the responsible mailbox, RFC 1035 §3.3.13)');
  const timer = (k: 'refresh' | 'retry' | 'expire' | 'minimum') => {
    const e = get(k);
    return e ? ttlValue(src, e.value, `zone.soa.${k}`) : SOA_DEFAULTS[k];
  };
  const serialEntry = get('serial');
  let serial: number;
  if (serialEntry) {
    const t = scalarText(serialEntry.value);
    if (typeof t !== 'string' || !/^[0-9]+$/.test(t) || Number(t) > 0xffffffff) {
      fail(src, serialEntry.value, `zone.soa.serial ${JSON.stringify(t)} is not an integer 0..4294967295 (RFC 1982 serial)`);
    }
    serial = Number(t);
  } else {
    // A file edit moves the mtime forward, so the serial grows with each change (RFC 1982 arithmetic).
    serial = mtime ? Math.floor(mtime.getTime() / 1000) % 0x100000000 : 1;
  }
  const ttlEntry = get('ttl');
  return {
    mname: nameValue(src, mnameEntry.value, origin, 'zone.soa.mname'),
    rname: mailboxValue(src, rnameEntry.value, origin),
    serial,
    serialExplicit: serialEntry !== undefined,
    refresh: timer('refresh'),
    retry: timer('retry'),
    expire: timer('expire'),
    minimum: timer('minimum'),
    ttl: ttlEntry ? ttlValue(src, ttlEntry.value, 'zone.soa.ttl') : ttl,
  };
}

function parseDnssec(src: Source, node: unknown): Pick<ZoneConfig, 'dnssec'> {
  const dnssec: ZoneConfig['dnssec'] = {
    enabled: false, denial: 'compact', signatureValidity: DEFAULT_SIGNATURE_VALIDITY, multiSigner: false,
    dnskeyTtl: DEFAULT_TTL, dnskeySet: 'union', allowForeignAlgorithms: false, presigned: false,
  };
  if (isNull(node)) return { dnssec };
  const items = entries(src, asMap(src, node, 'zone.dnssec'));
  checkKeys(src, items, DNSSEC_KEYS, 'zone.dnssec');
  const presigned = items.find((e) => e.key === 'presigned');
  if (presigned && boolValue(src, presigned.value, 'zone.dnssec.presigned')) {
    // Served as given: every other DNSSEC setting is about signing it ourselves.
    for (const e of items) {
      if (e === presigned || ((e.key === 'enabled' || e.key === 'multi_signer') && scalarText(e.value) === 'false')) continue;
      fail(src, e.keyNode, e.key === 'enabled' || e.key === 'multi_signer'
        ? `zone.dnssec.presigned and zone.dnssec.${e.key} exclude each other: a pre-signed zone is served as given, tandem does not sign it`
        : `zone.dnssec.${e.key} does not apply to a pre-signed zone (zone.dnssec.presigned: the records are served as given)`);
    }
    dnssec.presigned = true;
    return { dnssec };
  }
  for (const e of items) {
    switch (e.key) {
      case 'enabled': dnssec.enabled = boolValue(src, e.value, 'zone.dnssec.enabled'); break;
      case 'multi_signer': dnssec.multiSigner = boolValue(src, e.value, 'zone.dnssec.multi_signer'); break;
      case 'allow_foreign_algorithms': dnssec.allowForeignAlgorithms = boolValue(src, e.value, 'zone.dnssec.allow_foreign_algorithms'); break;
      case 'dnskey_ttl': dnssec.dnskeyTtl = ttlValue(src, e.value, 'zone.dnssec.dnskey_ttl'); break;
      case 'dnskey_set': {
        const v = scalarText(e.value);
        if (v !== 'union' && v !== 'own-ksk') fail(src, e.value, `zone.dnssec.dnskey_set ${JSON.stringify(v)} is not union or own-ksk`);
        dnssec.dnskeySet = v;
        break;
      }
      case 'key_tag_range': {
        const m = /^\s*([0-9]{1,5})\s*-\s*([0-9]{1,5})\s*$/.exec(String(scalarText(e.value)));
        const lo = m ? Number(m[1]) : NaN, hi = m ? Number(m[2]) : NaN;
        if (!m || lo > hi || hi > 65535 || hi - lo < 255) {
          fail(src, e.value, `zone.dnssec.key_tag_range must be "LOW-HIGH" within 0-65535 with room for at least 256 tags, e.g. "0-32767"`);
        }
        dnssec.keyTagRange = [lo, hi];
        break;
      }
      case 'denial': {
        const d = scalarText(e.value);
        if (!DENIAL.includes(d as DenialMode)) {
          fail(src, e.value, `zone.dnssec.denial ${JSON.stringify(d)} is not one of ${DENIAL.join(', ')}`);
        }
        dnssec.denial = d as DenialMode;
        break;
      }
      case 'nsec3_opt_out': dnssec.nsec3OptOut = boolValue(src, e.value, 'zone.dnssec.nsec3_opt_out'); break;
      case 'signature_validity': {
        const v = durationValue(src, e.value, 'zone.dnssec.signature_validity');
        if (v < MIN_SIGNATURE_VALIDITY || v > MAX_SIGNATURE_VALIDITY) {
          fail(src, e.value, `zone.dnssec.signature_validity ${v}s is outside 1h..366d`);
        }
        dnssec.signatureValidity = v;
        break;
      }
    }
  }
  const optOut = items.find((e) => e.key === 'nsec3_opt_out');
  if (dnssec.nsec3OptOut && dnssec.denial !== 'nsec3-chain') {
    fail(src, optOut!.keyNode, `zone.dnssec.nsec3_opt_out applies to denial: nsec3-chain (RFC 5155 §6 Opt-Out spans a precomputed chain), not to denial: ${dnssec.denial}`);
  }
  return { dnssec };
}

// ---- scalar readers ---------------------------------------------------------------------------

function stringValue(src: Source, e: Entry, what: string): string {
  const t = scalarText(e.value);
  if (typeof t !== 'string' || t === '') fail(src, e.value, `${what} must be a non-empty string`);
  return t;
}

export function durationValue(src: Source, node: unknown, what: string): number {
  const t = scalarText(node);
  const v = typeof t === 'string' ? parseDuration(t) : undefined;
  if (v === undefined) {
    fail(src, node, `${what} ${JSON.stringify(t ?? null)} is not a duration (seconds, or like 30s, 15m, 12h, 14d, 2w)`);
  }
  return v;
}

/** A TTL: a duration within 0..2^31-1 seconds (RFC 2181 §8). */
export function ttlValue(src: Source, node: unknown, what: string, where = {}): number {
  const t = scalarText(node);
  const v = typeof t === 'string' ? parseDuration(t) : undefined;
  if (v === undefined || v > MAX_TTL) {
    fail(src, node, `${what} ${JSON.stringify(t ?? null)} is not a TTL: seconds 0..${MAX_TTL} or a duration like 1h (RFC 2181 §8)`, where);
  }
  return v;
}

function boolValue(src: Source, node: unknown, what: string): boolean {
  const t = scalarText(node);
  if (t === 'true') return true;
  if (t === 'false') return false;
  fail(src, node, `${what} must be true or false, not ${JSON.stringify(t ?? null)}`);
}

function nameValue(src: Source, node: unknown, origin: Name, what: string): Name {
  const t = scalarText(node);
  if (typeof t !== 'string' || t === '') fail(src, node, `${what} must be a domain name`);
  try {
    return Name.fromText(t, origin);
  } catch (e) {
    if (e instanceof NameError) fail(src, node, `${what} ${JSON.stringify(t)} is not a domain name: ${e.message}`);
    throw e;
  }
}

/** The SOA RNAME mailbox: a domain name, or an address `host.master@example.com` (RFC 1035 §8: the first dot ends the local part). */
function mailboxValue(src: Source, node: unknown, origin: Name): Name {
  const t = scalarText(node);
  if (typeof t === 'string' && t.includes('@') && t !== '@') {
    const at = t.lastIndexOf('@');
    const local = t.slice(0, at).replace(/\\/g, '\\\\').replace(/\./g, '\\.');
    let domain = t.slice(at + 1);
    if (!domain.endsWith('.')) domain += '.';
    try {
      return Name.fromText(`${local}.${domain}`);
    } catch (e) {
      fail(src, node, `zone.soa.rname ${JSON.stringify(t)} is not a mailbox: ${(e as Error).message}`);
    }
  }
  return nameValue(src, node, origin, 'zone.soa.rname');
}

