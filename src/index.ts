// The library API, for tools that start tandem as a fixture in their own tests.
export { startServer, type RunningServer, type ServerDeps } from './server/server.js';
export { defaults as defaultConfig, resolveConfig, parseEndpoint, type ServerConfig, type Endpoint } from './config/server.js';
export { Name } from './dns/name.js';
export { RRType, Rcode } from './dns/types.js';
export { encodeQuery, parseQuery, encodeResponse } from './dns/message.js';
export type { Clock } from './dnssec/types.js';
export { signRequest, generateSecret, type TsigKey, type TsigAlgorithm, type TsigVerifier } from './dns/tsig.js';
export {
  startFixture, type Fixture, type FixtureOptions, type FixtureZone, type FixtureRecord, type FixtureKey, type RecordSpec, type RecordValue,
} from './fixture.js';
export type { DnssecStatus } from './state/types.js';
