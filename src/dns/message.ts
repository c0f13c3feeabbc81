// The DNS message codec (RFC 1035 §4): query parsing lives in query.ts (hot path, no dependencies),
// response and query encoding with compression, EDNS and truncation in writer.ts.

export { parseQuery, EDNS_DO, EDNS_CO } from './query.js';
export type { Edns, Query, ParseResult } from './query.js';
export { encodeResponse, encodeQuery, ede } from './writer.js';
export type { Response, QueryOptions } from './writer.js';
