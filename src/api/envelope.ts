// Cloudflare's v4 response envelope (api-schemas common.yaml: api-response-common / -failure / -collection) and
// the errors the HTTP layer answers with. Every answer, success or failure, goes out in this shape; NS1 routes use
// their own `{message}` body (ns1.ts).
import type { ServerResponse } from 'node:http';
import { AdminError } from '../state/types.js';

export interface ErrorItem {
  code: number;
  message: string;
  /** Cloudflare nests causes of a header error here (e.g. 6003 -> 6111). */
  error_chain?: { code: number; message: string }[];
}

export interface ResultInfo {
  page: number;
  per_page: number;
  count: number;
  total_count: number;
  total_pages: number;
}

export interface Envelope {
  success: boolean;
  errors: ErrorItem[];
  messages: { code: number; message: string }[];
  result: unknown;
  result_info?: ResultInfo;
}

/** A request the API refuses: HTTP status plus one or more Cloudflare error items. */
export class ApiError extends Error {
  readonly errors: ErrorItem[];
  constructor(readonly status: number, code: number, message: string, more: ErrorItem[] = []) {
    super(message);
    this.errors = [{ code, message }, ...more];
  }

  /** Adds a cause under the first error (Cloudflare's `error_chain`). */
  withChain(code: number, message: string): this {
    (this.errors[0].error_chain ??= []).push({ code, message });
    return this;
  }

  static from(errors: ErrorItem[], status: number): ApiError {
    const e = new ApiError(status, errors[0].code, errors[0].message);
    e.errors.splice(0, 1, ...errors);
    return e;
  }
}

/** Cloudflare error codes this API answers with (see docs/api.md for where each comes from). */
export const Code = {
  /** No route for the URI (the only code in Cloudflare's schema). */
  NO_ROUTE: 7003,
  /** Method not available for an existing URI. */
  METHOD_NOT_ALLOWED: 7001,
  /** Authentication error: a bearer token we do not know. */
  AUTH_ERROR: 10000,
  UNKNOWN_KEY_OR_EMAIL: 9103,
  MISSING_EMAIL: 9106,
  MISSING_KEY: 9107,
  INVALID_HEADERS: 6003,
  INVALID_AUTH_HEADER_FORMAT: 6111,
  MALFORMED_JSON: 6007,
  /** Too many requests (Cloudflare answers 429 with this code); here: too many failed authentications. */
  RATE_LIMITED: 971,
  BODY_TOO_LARGE: 6008,
  /** DNS validation error: a record the DNS rules reject. */
  DNS_VALIDATION: 1004,
  /** Invalid or missing field in a body (Cloudflare's 9000-range for dns_records input; tandem's choice of numbers). */
  INVALID_FIELD: 9000,
  INVALID_NAME: 9005,
  INVALID_CONTENT: 9007,
  INVALID_TYPE: 9020,
  INVALID_TTL: 9021,
  MISSING_DATA: 9101,
  INVALID_ZONE_ID: 7000,
  RECORD_NOT_FOUND: 81044,
  RECORD_EXISTS: 81058,
  /** Invalid or missing "status" and friends on PATCH /dnssec. */
  DNSSEC_BAD_REQUEST: 1002,
  INTERNAL: 1001,
  /** tandem's message (not an error): a deleted DNSKEY record stays because other sources still hold the key. */
  KEY_STILL_HELD: 81090,
} as const;

export function success(result: unknown, resultInfo?: ResultInfo): Envelope {
  const env: Envelope = { success: true, errors: [], messages: [], result };
  if (resultInfo) env.result_info = resultInfo;
  return env;
}

export function failure(errors: ErrorItem[]): Envelope {
  return { success: false, errors, messages: [], result: null };
}

/** Maps anything a handler throws to an HTTP status and error items; unknown errors are 500 without details. */
export function toApiError(err: unknown): ApiError | undefined {
  if (err instanceof ApiError) return err;
  if (err instanceof AdminError) return new ApiError(err.status, err.code, err.message);
  return undefined;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}
