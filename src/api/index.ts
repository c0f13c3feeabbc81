// The admin HTTP API: Cloudflare v4 and NS1 shapes over a ZoneManager (docs/api.md).
export { startApi, createRouter, type ApiOptions, type RunningApi } from './server.js';
export { resolveApiAuth, ApiAuthConfigError, TOKEN_FILE, sha256Hex, type ApiAuthConfig, type RawApiAuth } from './auth.js';
export { MAX_BODY } from './body.js';
