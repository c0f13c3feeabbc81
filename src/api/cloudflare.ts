// Cloudflare v4 routes (under /client/v4): zones, dns_records, dnssec, dnssec/zsk, dns_settings. Shapes follow
// docs/api.md and the provider reference; every body is validated in full before the manager is called, so a
// rejected request changes nothing.
import { createHash } from 'node:crypto';
import { canonicalRdata } from '../dns/rdata.js';
import { RRType } from '../dns/types.js';
import type { DnssecView, DnsSettingsView, KeyView, RecordInput, RecordSource, RecordView, SourceOptions, ZoneManager, ZoneView } from '../state/types.js';
import { describeSources, RECORD_SOURCES } from '../state/claims.js';
import { keyTag } from '../dnssec/keys.js';
import { ApiError, Code, success } from './envelope.js';
import { exactNameFilter, filterRecords, orderItems, paginate } from './list.js';
import { Name } from '../dns/name.js';
import { AUTO_TTL_SECONDS, fqdn, recordFromBody, recordFromPatch, recordToJson, type RecordJson } from './records.js';
import type { RequestContext, Router } from './router.js';
import { batchBody, describeIssues, dnssecPatch, dnsSettingsPatch, parentDsBody, recordBody, useApexNsBody } from './schemas.js';
import type { z } from 'zod';

export const CF_PREFIX = '/client/v4';

/** A fixed account for every zone: tandem has no accounts, but SDKs expect the object. */
const ACCOUNT = { id: createHash('sha256').update('tandem account').digest('hex').slice(0, 32), name: 'tandem' };

/** DNSSEC algorithm numbers -> Cloudflare's `key_type` names (IANA mnemonics). */
const KEY_TYPES: Record<number, string> = {
  5: 'RSASHA1', 7: 'RSASHA1-NSEC3-SHA1', 8: 'RSASHA256', 10: 'RSASHA512', 13: 'ECDSAP256SHA256', 14: 'ECDSAP384SHA384', 15: 'ED25519', 16: 'ED448',
};
const DIGEST_NAMES: Record<number, string> = { 1: 'SHA1', 2: 'SHA256', 4: 'SHA384' };

function parse<S extends z.ZodType>(schema: S, body: unknown, code: number = Code.INVALID_FIELD): z.infer<S> {
  const r = schema.safeParse(body ?? {});
  if (!r.success) throw new ApiError(400, code, describeIssues(r.error).join('; '));
  return r.data;
}

function zoneOf(ctx: RequestContext): ZoneView {
  const zone = ctx.manager.zone(ctx.params.zone);
  if (!zone) {
    const where = ctx.path.startsWith(CF_PREFIX) ? ctx.path.slice(CF_PREFIX.length) : ctx.path;
    throw new ApiError(404, Code.NO_ROUTE, `Could not route to ${where}, perhaps your object identifier is invalid?`);
  }
  return zone;
}

/** The zone's default TTL, which Cloudflare's automatic TTL (1) stands for; ZoneView may carry it. */
function zoneDefaultTtl(zone: ZoneView): number {
  return zone.defaultTtl ?? AUTO_TTL_SECONDS;
}

function recordOr404(m: ZoneManager, zoneId: string, id: string): RecordView {
  const rec = m.record(zoneId, id);
  if (!rec) throw new ApiError(404, Code.RECORD_NOT_FOUND, 'Record does not exist.');
  return rec;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * 81058 before the manager is asked: the same owner, type and (canonical) RDATA already exists. An imported
 * DNSKEY another source holds is no duplicate: the caller's source gains a claim on it (claims.ts).
 */
function refuseDuplicate(m: ZoneManager, zoneId: string, rec: RecordInput, source: SourceOptions, except?: string): void {
  const canon = canonicalRdata(rec.type, rec.rdata);
  for (const r of m.recordsAt(zoneId, rec.name, rec.type)) {
    if (r.id === except) continue;
    if (!sameBytes(canonicalRdata(r.type, r.rdata), canon)) continue;
    if (r.keySources && !r.keySources.includes(source.source ?? 'records')) continue;
    throw new ApiError(400, Code.RECORD_EXISTS, 'An identical record already exists.');
  }
}

/**
 * Who asks, for imported keys: `X-Tandem-Source: cli` marks `tandem import-key` / `remove-key` (a header
 * Cloudflare's SDKs never send, so their requests stay the dns_records source); `?all_sources=true` on a
 * DELETE removes a key from every source.
 */
function sourceOf(ctx: RequestContext): SourceOptions {
  const h = ctx.headers['x-tandem-source'];
  const v = (Array.isArray(h) ? h[0] : h)?.trim().toLowerCase();
  if (v !== undefined && v !== '' && !(RECORD_SOURCES as readonly string[]).includes(v)) {
    throw new ApiError(400, Code.INVALID_HEADERS, `X-Tandem-Source: '${v}' is not one of ${RECORD_SOURCES.join(', ')}`);
  }
  const opts: SourceOptions = { source: (v || 'records') as RecordSource };
  if (ctx.query.get('all_sources') === 'true') opts.allSources = true;
  return opts;
}

/** The messages of a DELETE that left an imported key in place: who still holds it. */
function stillHeld(rec: RecordView): { code: number; message: string }[] {
  if (!rec.keySources?.length) return [];
  return [{ code: Code.KEY_STILL_HELD, message: `key ${keyTag(rec.rdata)} is still held by ${describeSources(rec.keySources)}: only this source's claim was removed; the key stays published` }];
}

export function zoneJson(z: ZoneView): Record<string, unknown> {
  return {
    id: z.id,
    name: fqdn(z.name),
    status: 'active',
    type: 'full',
    paused: false,
    development_mode: 0,
    name_servers: z.nameservers.map(fqdn),
    original_name_servers: null,
    original_registrar: null,
    original_dnshost: null,
    vanity_name_servers: [],
    created_on: z.createdOn,
    modified_on: z.modifiedOn,
    activated_on: z.createdOn,
    meta: { step: 4, custom_certificate_quota: 0, page_rule_quota: 0, phishing_detected: false, multiple_railguns_allowed: false },
    owner: { id: null, type: 'user', email: null },
    account: ACCOUNT,
    permissions: ['#dns_records:edit', '#dns_records:read', '#zone:read', '#zone_settings:edit', '#zone_settings:read'],
    plan: {
      id: '0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee', name: 'tandem', price: 0, currency: 'USD', frequency: '', is_subscribed: false,
      can_subscribe: false, legacy_id: 'free', legacy_discount: false, externally_managed: false,
    },
    cname_suffix: null,
    // tandem extension: what the zone serves now (a CSYNC's serial comes from here, `tandem csync`).
    ...(z.serial !== undefined ? { tandem: { soa_serial: z.serial } } : {}),
    verification_key: null,
  };
}

/** GET /dnssec result (CF-TS DNSSEC; types as in Cloudflare's own example: algorithm/digest_type strings). */
export function dnssecJson(v: DnssecView): Record<string, unknown> {
  const { ksk, ds } = v;
  const digestType = ds ? ds.rdata[3] : undefined;
  return {
    status: v.status,
    flags: ksk?.flags ?? null,
    algorithm: ksk ? String(ksk.algorithm) : null,
    key_type: ksk ? (KEY_TYPES[ksk.algorithm] ?? `ALG${ksk.algorithm}`) : null,
    digest_type: digestType !== undefined ? String(digestType) : null,
    digest_algorithm: digestType !== undefined ? (DIGEST_NAMES[digestType] ?? null) : null,
    digest: ds ? ds.digestHex.toUpperCase() : null,
    ds: ds?.text ?? null,
    key_tag: ksk?.keyTag ?? null,
    public_key: ksk?.publicKey ?? null,
    modified_on: v.modifiedOn,
    dnssec_multi_signer: v.multiSigner,
    dnssec_presigned: v.presigned,
    dnssec_use_nsec3: v.useNsec3,
  };
}

/** One entry of GET /dnssec/zsk (CF-TS zsk.ts; `Hdr` is miekg/dns's RR_Header). Never any private material. */
export function zskJson(zone: ZoneView, k: KeyView): Record<string, unknown> {
  return {
    DNSKEY: {
      Algorithm: k.algorithm,
      Flags: k.flags,
      Protocol: k.dnskey[2],
      PublicKey: k.publicKey,
      Hdr: { Name: zone.name.toString(), Rrtype: RRType.DNSKEY, Class: 1, Ttl: k.ttl, Rdlength: k.dnskey.length },
    },
    Location: 'database',
    Name: `K${zone.name.toString()}+${String(k.algorithm).padStart(3, '0')}+${String(k.keyTag).padStart(5, '0')}`,
    SigningKey: { pubkey: k.publicKey },
    Tag: k.source === 'own' ? 'active' : 'external',
  };
}

export function dnsSettingsJson(s: DnsSettingsView): Record<string, unknown> {
  return {
    multi_provider: s.multiProvider,
    ns_ttl: s.nsTtl,
    flatten_all_cnames: false,
    foundation_dns: false,
    secondary_overrides: false,
    zone_mode: 'standard',
    nameservers: { type: 'cloudflare.standard' },
  };
}

function useApexNsJson(s: DnsSettingsView, zone: ZoneView): Record<string, unknown> {
  return { id: 'use_apex_ns', value: s.multiProvider, editable: true, modified_on: zone.modifiedOn };
}

const byName = (a: RecordJson, b: RecordJson) => a.name.localeCompare(b.name);
const recordOrders: Record<string, (a: RecordJson, b: RecordJson) => number> = {
  type: (a, b) => a.type.localeCompare(b.type),
  name: byName,
  content: (a, b) => a.content.localeCompare(b.content),
  ttl: (a, b) => a.ttl - b.ttl,
  proxied: () => 0,
};

export function addCloudflareRoutes(r: Router): void {
  const p = CF_PREFIX;

  r.add('GET', `${p}/user/tokens/verify`, () => ({
    body: { ...success({ id: 'tandem', status: 'active' }), messages: [{ code: 10000, message: 'This API Token is valid and active' }] },
  }));

  r.add('GET', `${p}/zones`, (ctx) => {
    const q = ctx.query;
    let zones = ctx.manager.zones().map(zoneJson);
    const name = q.get('name');
    if (name !== null) zones = zones.filter((z) => (z.name as string).toLowerCase() === name.trim().toLowerCase().replace(/\.$/, ''));
    const status = q.get('status');
    if (status !== null) zones = zones.filter((z) => z.status === status);
    zones = orderItems(zones, q, { name: (a, b) => (a.name as string).localeCompare(b.name as string), status: () => 0 },
      (a, b) => (a.name as string).localeCompare(b.name as string));
    const { page, info } = paginate(zones, q, 20, 50);
    return { body: success(page, info) };
  });

  r.add('GET', `${p}/zones/:zone`, (ctx) => ({ body: success(zoneJson(zoneOf(ctx))) }));

  // --- dns_records ---------------------------------------------------------------------------------------------
  r.add('GET', `${p}/zones/:zone/dns_records`, (ctx) => {
    const zone = zoneOf(ctx);
    // `name=` (exact): that owner's records only, not a JSON of every record of a zone of a million (issue 16).
    const only = exactNameFilter(ctx.query);
    let owner: Name | undefined;
    try {
      // Plain names only: their text and their Name compare alike (escapes are left to the filter).
      owner = only !== undefined && /^[a-z0-9_*-]+(\.[a-z0-9_*-]+)*$/.test(only) ? Name.fromText(`${only}.`) : undefined;
    } catch {
      owner = undefined;
    }
    const all = (owner ? ctx.manager.recordsAt(zone.id, owner) : ctx.manager.records(zone.id)).map((rec) => recordToJson(rec, zone));
    const sorted = orderItems(filterRecords(all, ctx.query), ctx.query, recordOrders, (a, b) => byName(a, b) || a.type.localeCompare(b.type) || a.content.localeCompare(b.content));
    const { page, info } = paginate(sorted, ctx.query, 100, 5_000);
    return { body: success(page, info) };
  });

  r.add('POST', `${p}/zones/:zone/dns_records/batch`, async (ctx) => {
    const zone = zoneOf(ctx);
    const source = sourceOf(ctx);
    const b = parse(batchBody, ctx.body);
    const m = ctx.manager;
    const dflt = zoneDefaultTtl(zone);
    const deletes = (b.deletes ?? []).map((d) => recordOr404(m, zone.id, d.id).id);
    const patches = (b.patches ?? []).map(({ id, ...body }) => ({ id, patch: recordFromPatch(body, recordOr404(m, zone.id, id), zone, dflt) }));
    const puts = (b.puts ?? []).map(({ id, ...body }) => {
      recordOr404(m, zone.id, id);
      return { id, record: recordFromBody(body, zone, dflt) };
    });
    const posts = (b.posts ?? []).map((body) => recordFromBody(body, zone, dflt));
    const res = await m.batch(zone.id, { deletes, patches, puts, posts }, source);
    const j = (list: RecordView[]) => list.map((rec) => recordToJson(rec, zone));
    const body = success({ deletes: j(res.deletes), patches: j(res.patches), puts: j(res.puts), posts: j(res.posts) });
    body.messages = res.deletes.flatMap(stillHeld);
    return { body };
  });

  r.add('POST', `${p}/zones/:zone/dns_records`, async (ctx) => {
    const zone = zoneOf(ctx);
    const source = sourceOf(ctx);
    const rec = recordFromBody(parse(recordBody, ctx.body), zone, zoneDefaultTtl(zone));
    refuseDuplicate(ctx.manager, zone.id, rec, source);
    return { body: success(recordToJson(await ctx.manager.createRecord(zone.id, rec, source), zone)) };
  });

  r.add('GET', `${p}/zones/:zone/dns_records/:id`, (ctx) => {
    const zone = zoneOf(ctx);
    return { body: success(recordToJson(recordOr404(ctx.manager, zone.id, ctx.params.id), zone)) };
  });

  r.add('PATCH', `${p}/zones/:zone/dns_records/:id`, async (ctx) => {
    const zone = zoneOf(ctx);
    const base = recordOr404(ctx.manager, zone.id, ctx.params.id);
    const source = sourceOf(ctx);
    const rec = recordFromPatch(parse(recordBody, ctx.body), base, zone, zoneDefaultTtl(zone));
    refuseDuplicate(ctx.manager, zone.id, rec, source, base.id);
    return { body: success(recordToJson(await ctx.manager.updateRecord(zone.id, base.id, rec, source), zone)) };
  });

  r.add('PUT', `${p}/zones/:zone/dns_records/:id`, async (ctx) => {
    const zone = zoneOf(ctx);
    const base = recordOr404(ctx.manager, zone.id, ctx.params.id);
    const source = sourceOf(ctx);
    const rec = recordFromBody(parse(recordBody, ctx.body), zone, zoneDefaultTtl(zone));
    refuseDuplicate(ctx.manager, zone.id, rec, source, base.id);
    return { body: success(recordToJson(await ctx.manager.updateRecord(zone.id, base.id, rec, source), zone)) };
  });

  r.add('DELETE', `${p}/zones/:zone/dns_records/:id`, async (ctx) => {
    const zone = zoneOf(ctx);
    const base = recordOr404(ctx.manager, zone.id, ctx.params.id);
    const gone = await ctx.manager.deleteRecord(zone.id, base.id, sourceOf(ctx));
    if (!gone.keySources?.length) return { body: success({ id: gone.id }) };
    // tandem extension: an imported key other sources hold stays; the result says who holds it.
    ctx.logger.info({ zone: fqdn(zone.name), keyTag: keyTag(gone.rdata), heldBy: gone.keySources }, 'DNSKEY claim removed; the key stays');
    const body = success({ id: gone.id, deleted: false, key_sources: gone.keySources });
    body.messages = stillHeld(gone);
    return { body };
  });

  // --- dnssec --------------------------------------------------------------------------------------------------
  r.add('GET', `${p}/zones/:zone/dnssec`, (ctx) => ({ body: success(dnssecJson(ctx.manager.dnssec(zoneOf(ctx).id))) }));

  r.add('PATCH', `${p}/zones/:zone/dnssec`, async (ctx) => {
    const zone = zoneOf(ctx);
    const body = ctx.body;
    if (body !== null && typeof body === 'object' && !Array.isArray(body) && ('type' in body || 'content' in body || ('name' in body && 'ttl' in body))) {
      // One Cloudflare doc sends its apex NS record here by mistake (seed 000, step 3).
      throw new ApiError(400, Code.DNSSEC_BAD_REQUEST,
        `This looks like a DNS record: PATCH /zones/{zone_id}/dnssec only takes status, dnssec_multi_signer, dnssec_presigned and dnssec_use_nsec3. To add a record, use POST /zones/${zone.id}/dns_records`);
    }
    const b = parse(dnssecPatch, body, Code.DNSSEC_BAD_REQUEST);
    if (b.status === undefined && b.dnssec_multi_signer === undefined && b.dnssec_presigned === undefined && b.dnssec_use_nsec3 === undefined)
      throw new ApiError(400, Code.DNSSEC_BAD_REQUEST, 'Invalid or missing "status" (or dnssec_multi_signer, dnssec_presigned, dnssec_use_nsec3)');
    const patch: Parameters<ZoneManager['patchDnssec']>[1] = {};
    if (b.status !== undefined) patch.status = b.status;
    if (b.dnssec_multi_signer !== undefined) patch.multiSigner = b.dnssec_multi_signer;
    if (b.dnssec_presigned !== undefined) patch.presigned = b.dnssec_presigned;
    if (b.dnssec_use_nsec3 !== undefined) patch.useNsec3 = b.dnssec_use_nsec3;
    return { body: success(dnssecJson(await ctx.manager.patchDnssec(zone.id, patch))) };
  });

  r.add('DELETE', `${p}/zones/:zone/dnssec`, async (ctx) => {
    const zone = zoneOf(ctx);
    await ctx.manager.deleteDnssec(zone.id);
    return { body: success(zone.id) };
  });

  r.add('GET', `${p}/zones/:zone/dnssec/zsk`, (ctx) => {
    const zone = zoneOf(ctx);
    // ZSKs: the SEP bit (RFC 4034 §2.1.1) clear.
    const keys = ctx.manager.dnssec(zone.id).keys.filter((k) => (k.flags & 1) === 0);
    return { body: success(keys.map((k) => zskJson(zone, k))) };
  });

  // tandem extension: the lab's override of the parent-DS check that moves pending -> active.
  r.add('POST', `${p}/zones/:zone/dnssec/parent_ds`, async (ctx) => {
    const zone = zoneOf(ctx);
    const b = parse(parentDsBody, ctx.body);
    return { body: success(dnssecJson(await ctx.manager.setParentDs(zone.id, b.present))) };
  });

  // --- dns_settings --------------------------------------------------------------------------------------------
  r.add('GET', `${p}/zones/:zone/dns_settings`, (ctx) => ({ body: success(dnsSettingsJson(ctx.manager.dnsSettings(zoneOf(ctx).id))) }));

  r.add('PATCH', `${p}/zones/:zone/dns_settings`, async (ctx) => {
    const zone = zoneOf(ctx);
    const b = parse(dnsSettingsPatch, ctx.body);
    const readOnly = Object.keys(b).filter((k) => k !== 'multi_provider');
    if (readOnly.length > 0)
      throw new ApiError(400, Code.INVALID_FIELD, `${readOnly.join(', ')}: not changeable through tandem's API (set it in the zone file); only multi_provider is`);
    const s = b.multi_provider === undefined ? ctx.manager.dnsSettings(zone.id) : await ctx.manager.patchDnsSettings(zone.id, { multiProvider: b.multi_provider });
    return { body: success(dnsSettingsJson(s)) };
  });

  // Legacy (end of life at Cloudflare 2024-09-13, still in seed 000); same switch as multi_provider.
  r.add('GET', `${p}/zones/:zone/dns_settings/use_apex_ns`, (ctx) => {
    const zone = zoneOf(ctx);
    return { body: success(useApexNsJson(ctx.manager.dnsSettings(zone.id), zone)) };
  });

  r.add('PATCH', `${p}/zones/:zone/dns_settings/use_apex_ns`, async (ctx) => {
    const zone = zoneOf(ctx);
    const b = parse(useApexNsBody, ctx.body);
    const value = b.value === true || b.value === 'on';
    const s = await ctx.manager.patchDnsSettings(zone.id, { multiProvider: value });
    return { body: success(useApexNsJson(s, ctx.manager.zone(zone.id) ?? zone)) };
  });
}
