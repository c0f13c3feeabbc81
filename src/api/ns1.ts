// NS1 (IBM NS1 Connect) multi-signer routes under /v1, addressed by zone name. Errors are NS1's `{"message"}`.
// Shapes: GET /dnssec from NS1-GO rest/model/dns/dnssec_test.go; external key sets from IBM's API-only docs
// (the request wrapper and DELETE are not documented there; see docs/api.md).
import { Name, NameError } from '../dns/name.js';
import type { KeyView, ZoneManager, ZoneView } from '../state/types.js';
import { ApiError } from './envelope.js';
import type { RequestContext, Router } from './router.js';
import { describeIssues, ns1KeySetBody } from './schemas.js';

export const NS1_PREFIX = '/v1';
const DEFAULT_KEY_TTL = 3600;

/** NS1 failures: `{"message": ...}` with the HTTP status. */
export class Ns1Error extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function zoneOf(ctx: RequestContext): ZoneView {
  let name: Name;
  try {
    const t = ctx.params.zone;
    name = Name.fromText(t.endsWith('.') ? t : t + '.');
  } catch (e) {
    if (e instanceof NameError) throw new Ns1Error(404, 'zone not found');
    throw e;
  }
  const zone = ctx.manager.zoneByName(name);
  if (!zone) throw new Ns1Error(404, 'zone not found');
  return zone;
}

const keyArray = (k: KeyView): string[] => [String(k.flags), String(k.dnskey[2]), String(k.algorithm), k.publicKey];

/** GET /v1/zones/{zone}/dnssec: NS1's own (here: tandem's own) keys and the delegation data for the parent. */
export function ns1DnssecJson(zone: ZoneView, m: ZoneManager): Record<string, unknown> {
  const v = m.dnssec(zone.id);
  const own = v.keys.filter((k) => k.source === 'own');
  if (own.length === 0 || (v.status === 'disabled' && v.modifiedOn === null)) throw new Ns1Error(400, 'DNSSEC is not enabled on the zone');
  const ksks = own.filter((k) => (k.flags & 1) === 1);
  const ttl = own[0].ttl;
  const ds = v.ds ? [[String((v.ds.rdata[0] << 8) | v.ds.rdata[1]), String(v.ds.rdata[2]), String(v.ds.rdata[3]), v.ds.digestHex.toLowerCase()]] : [];
  return {
    zone: zone.name.toString(),
    keys: { dnskey: own.map(keyArray), ttl },
    delegation: { dnskey: ksks.map(keyArray), ds, ttl },
  };
}

function keySetJson(set: { name: string; ttl: number; keys: KeyView[] }): Record<string, unknown> {
  return {
    name: set.name,
    dnskey: {
      ttl: set.ttl,
      // `sources` (tandem): who holds each key; deleting this set removes only its own claim (docs/api.md).
      data: set.keys.map((k) => ({ flags: k.flags, protocol: k.dnskey[2], algorithm: k.algorithm, public_key: k.publicKey, ...(k.sources ? { sources: k.sources } : {}) })),
    },
  };
}

function setName(ctx: RequestContext): string {
  const s = ctx.params.set;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(s)) throw new Ns1Error(400, 'key set name: 1-64 letters, digits, _ . -');
  return s;
}

export function addNs1Routes(r: Router): void {
  const p = NS1_PREFIX;
  r.add('GET', `${p}/zones/:zone/dnssec`, (ctx) => ({ body: ns1DnssecJson(zoneOf(ctx), ctx.manager) }));

  r.add('GET', `${p}/zones/:zone/dnssec/external_keys`, (ctx) => {
    const zone = zoneOf(ctx);
    return { body: ctx.manager.externalKeySets(zone.id).map(keySetJson) };
  });

  const put = async (ctx: RequestContext) => {
    const zone = zoneOf(ctx);
    const set = setName(ctx);
    const parsed = ns1KeySetBody.safeParse(ctx.body ?? {});
    if (!parsed.success) throw new Ns1Error(400, describeIssues(parsed.error).join('; '));
    const d = 'dnskey' in parsed.data ? parsed.data.dnskey : parsed.data;
    const keys = d.data.map((k) => ({ flags: k.flags, protocol: k.protocol, algorithm: k.algorithm, publicKey: k.public_key }));
    const saved = await ctx.manager.putExternalKeySet(zone.id, set, d.ttl ?? DEFAULT_KEY_TTL, keys);
    return { body: keySetJson(saved) };
  };
  r.add('PUT', `${p}/zones/:zone/dnssec/external_keys/:set`, put);
  r.add('POST', `${p}/zones/:zone/dnssec/external_keys/:set`, put);

  r.add('GET', `${p}/zones/:zone/dnssec/external_keys/:set`, (ctx) => {
    const zone = zoneOf(ctx);
    const set = ctx.manager.externalKeySets(zone.id).find((s) => s.name === ctx.params.set);
    if (!set) throw new Ns1Error(404, 'key set not found');
    return { body: keySetJson(set) };
  });

  r.add('DELETE', `${p}/zones/:zone/dnssec/external_keys/:set`, async (ctx) => {
    const zone = zoneOf(ctx);
    const name = setName(ctx);
    if (!ctx.manager.externalKeySets(zone.id).some((s) => s.name === name)) throw new Ns1Error(404, 'key set not found');
    await ctx.manager.deleteExternalKeySet(zone.id, name);
    return { body: {} };
  });
}

/** An ApiError (body cap, JSON) or AdminError in NS1's shape. */
export function ns1ErrorBody(err: ApiError): { status: number; body: { message: string } } {
  return { status: err.status, body: { message: err.errors.map((e) => e.message).join('; ') } };
}
