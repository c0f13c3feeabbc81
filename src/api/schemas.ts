// Request bodies, validated with zod before anything changes. Unknown fields are dropped (as Cloudflare does),
// except on the DNSSEC and settings PATCHes, where a stray field is more likely a mistake than an extension.
import { z } from 'zod';
import { RRType } from '../dns/types.js';
import { base64Problem } from '../dns/rdata/text.js';

const u8 = z.number().int().min(0).max(255);
const u16 = z.number().int().min(0).max(65_535);
const hexString = z.string().regex(/^[0-9a-fA-F]+$/, 'must be hex');
/**
 * Base64 decoded strictly (RFC 4648 §3.3, dns/rdata/text.ts base64Problem): a line break, a space or any other
 * character outside the alphabet, or wrong padding, is an error, never skipped as Node's decoder would.
 */
const base64String = z.string().min(1, 'must not be empty').superRefine((s, ctx) => {
  const problem = base64Problem(s);
  if (problem) ctx.addIssue({ code: 'custom', message: `must be base64: ${problem}` });
});

export const recordBody = z.object({
  type: z.string().min(1).optional(),
  name: z.string().optional(),
  content: z.string().optional(),
  data: z.record(z.string(), z.unknown()).nullable().optional(),
  ttl: z.number().int().optional(),
  priority: u16.optional(),
  proxied: z.boolean().nullable().optional(),
  comment: z.string().max(500).nullable().optional(),
  tags: z.array(z.string()).optional(),
  settings: z.record(z.string(), z.unknown()).optional(),
});
export type RecordBody = z.infer<typeof recordBody>;

/** `data` objects, field names as in Cloudflare's SDK (CF-GO dns/record.go *RecordData). */
export const dataSchemas = new Map<number, z.ZodType>([
  [RRType.DNSKEY, z.object({ flags: u16, protocol: u8, algorithm: u8, public_key: base64String })],
  [RRType.DS, z.object({ key_tag: u16, algorithm: u8, digest_type: u8, digest: hexString })],
  [RRType.CDNSKEY, z.object({ flags: u16, protocol: u8, algorithm: u8, public_key: base64String })],
  [RRType.CDS, z.object({ key_tag: u16, algorithm: u8, digest_type: u8, digest: hexString })],
  [RRType.SRV, z.object({ priority: u16, weight: u16, port: u16, target: z.string().min(1) })],
  [RRType.CAA, z.object({ flags: u8, tag: z.string().regex(/^[A-Za-z0-9]+$/, 'must be letters and digits'), value: z.string() })],
  [RRType.TLSA, z.object({ usage: u8, selector: u8, matching_type: u8, certificate: hexString })],
  [RRType.SMIMEA, z.object({ usage: u8, selector: u8, matching_type: u8, certificate: hexString })],
  [RRType.SSHFP, z.object({ algorithm: u8, type: u8, fingerprint: hexString })],
  [RRType.URI, z.object({ priority: u16, weight: u16, target: z.string().min(1) })],
  [RRType.CERT, z.object({ type: u16, key_tag: u16, algorithm: u8, certificate: base64String })],
  [RRType.NAPTR, z.object({ order: u16, preference: u16, flags: z.string(), service: z.string(), regex: z.string(), replacement: z.string().min(1) })],
  [RRType.HTTPS, z.object({ priority: u16, target: z.string().min(1), value: z.string().optional() })],
  [RRType.SVCB, z.object({ priority: u16, target: z.string().min(1), value: z.string().optional() })],
]);

export const batchBody = z.object({
  deletes: z.array(z.object({ id: z.string() })).optional(),
  patches: z.array(recordBody.extend({ id: z.string() })).optional(),
  puts: z.array(recordBody.extend({ id: z.string() })).optional(),
  posts: z.array(recordBody).optional(),
});

export const dnssecPatch = z.object({
  status: z.enum(['active', 'disabled']).optional(),
  dnssec_multi_signer: z.boolean().optional(),
  dnssec_presigned: z.boolean().optional(),
  dnssec_use_nsec3: z.boolean().optional(),
}).strict();

export const parentDsBody = z.object({ present: z.boolean() }).strict();

/** POST .../tandem/sync/{peer}/remove (api/sync.ts): `ds_absent` says the parent's DS for the peer's KSKs is gone. */
export const syncRemoveBody = z.object({ ds_absent: z.boolean().optional() }).strict();

/** Cloudflare's dns_settings fields; tandem can change `multi_provider` only (the rest are read-only here). */
export const dnsSettingsPatch = z.object({
  multi_provider: z.boolean().optional(),
  flatten_all_cnames: z.unknown().optional(),
  foundation_dns: z.unknown().optional(),
  internal_dns: z.unknown().optional(),
  nameservers: z.unknown().optional(),
  ns_ttl: z.unknown().optional(),
  secondary_overrides: z.unknown().optional(),
  soa: z.unknown().optional(),
  zone_mode: z.unknown().optional(),
}).strict();

export const useApexNsBody = z.object({
  id: z.literal('use_apex_ns').optional(),
  value: z.union([z.boolean(), z.enum(['on', 'off'])]),
}).strict();

/** RFC 4034 §2.1.2: the DNSKEY Protocol field MUST be 3. */
const ns1Key = z.object({ flags: u16, protocol: z.literal(3), algorithm: u8, public_key: base64String });
const ns1Dnskey = z.object({ ttl: z.number().int().min(0).max(2_147_483_647).optional(), data: z.array(ns1Key).min(1) });
/** NS1 external key set: `{"dnskey": {ttl, data: [...]}}`, or the same object without the wrapper. */
export const ns1KeySetBody = z.union([z.object({ dnskey: ns1Dnskey }), ns1Dnskey]);

/** Zod issues as `path: message` lines (field-level messages for the error envelope). */
export function describeIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((i) => {
    const path = [prefix, ...i.path.map(String)].filter((p) => p !== '').join('.');
    return path ? `${path}: ${i.message}` : i.message;
  });
}
