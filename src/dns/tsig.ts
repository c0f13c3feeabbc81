// STUB (lead): replaced by the TSIG helper's implementation on merge. Interface only.
import type { Name } from './name.js';

export type TsigAlgorithm = 'hmac-sha256' | 'hmac-sha512' | 'hmac-sha384' | 'hmac-sha224' | 'hmac-sha1' | 'hmac-md5';
export interface TsigKey { name: Name; algorithm: TsigAlgorithm; secret: Uint8Array }
export class Keyring {
  constructor(private readonly keys: TsigKey[]) {}
  find(name: Name): TsigKey | undefined { return this.keys.find((k) => k.name.equals(name)); }
  byName(text: string): TsigKey | undefined { return this.keys.find((k) => k.name.toString().toLowerCase() === text.toLowerCase() || k.name.toString().toLowerCase() === `${text.toLowerCase()}.`); }
}
export interface TsigSigner { sign(response: Uint8Array, now: number): Uint8Array; readonly overhead: number }
export type TsigRequestResult =
  | { kind: 'none' }
  | { kind: 'formerr' }
  | { kind: 'ok'; key: TsigKey; signer: TsigSigner }
  | { kind: 'error'; error: number; key?: TsigKey; signer: TsigSigner };
export function verifyRequest(_msg: Uint8Array, _keyring: Keyring, _now: number): TsigRequestResult {
  return { kind: 'none' };
}
export interface TsigVerifier {
  verify(response: Uint8Array, now: number): { ok: true; signed: boolean } | { ok: false; reason: string; error?: number };
  finish(): { ok: true } | { ok: false; reason: string };
}
export function signRequest(msg: Uint8Array, _key: TsigKey, _now: number): { wire: Uint8Array; verifier: TsigVerifier } {
  return { wire: msg, verifier: { verify: () => ({ ok: true, signed: false }), finish: () => ({ ok: true }) } };
}
