// Other providers' public keys (RFC 8901 §2.1.2 model 2): the checks an imported DNSKEY must pass before it
// joins our DNSKEY RRset. Each failure says why, so the operator can fix the key at its source.
import { createPublicKey } from 'node:crypto';
import { rdataEquals } from '../dns/rdata.js';
import { ALG_ECDSAP256SHA256, DNSKEY_PROTOCOL, FLAG_REVOKE, FLAGS_KSK, FLAGS_ZSK, keyTag, parseDnskeyRdata, validatePublicKey } from './keys.js';

export class ImportError extends Error {}

/** DNSSEC algorithms a validator may meet today (RFC 8624 §3.1 MUST/RECOMMENDED signing algorithms). */
export const KNOWN_ALGORITHMS: Record<number, string> = {
  8: 'RSASHA256', 10: 'RSASHA512', 13: 'ECDSAP256SHA256', 14: 'ECDSAP384SHA384', 15: 'ED25519', 16: 'ED448',
};

function b64url(b: Uint8Array): string {
  return Buffer.from(b).toString('base64url');
}

/** Checks that the public key field parses for its algorithm (RFC 3110 RSA, RFC 6605 ECDSA, RFC 8080 EdDSA). */
function checkPublicKey(algorithm: number, key: Uint8Array): void {
  switch (algorithm) {
    case 13:
      validatePublicKey(algorithm, key);
      return;
    case 14: {
      if (key.length !== 96) throw new ImportError(`ECDSAP384SHA384 public key has ${key.length} octets, expected 96 (RFC 6605 §4)`);
      createPublicKey({ key: { kty: 'EC', crv: 'P-384', x: b64url(key.subarray(0, 48)), y: b64url(key.subarray(48)) }, format: 'jwk' });
      return;
    }
    case 15:
    case 16: {
      const len = algorithm === 15 ? 32 : 57;
      if (key.length !== len) throw new ImportError(`${KNOWN_ALGORITHMS[algorithm]} public key has ${key.length} octets, expected ${len} (RFC 8080 §3)`);
      createPublicKey({ key: { kty: 'OKP', crv: algorithm === 15 ? 'Ed25519' : 'Ed448', x: b64url(key) }, format: 'jwk' });
      return;
    }
    case 8:
    case 10: {
      // RFC 3110 §2: exponent length (1 octet, or 0 then 2 octets), exponent, modulus.
      let off = 1;
      let elen = key[0];
      if (elen === 0) {
        elen = (key[1] << 8) | key[2];
        off = 3;
      }
      const mod = key.subarray(off + elen);
      if (elen === 0 || key.length <= off + elen || mod.length < 64) throw new ImportError('RSA public key does not parse (RFC 3110 §2)');
      createPublicKey({ key: { kty: 'RSA', e: b64url(key.subarray(off, off + elen)), n: b64url(mod) }, format: 'jwk' });
      return;
    }
    default:
      throw new ImportError(`unknown DNSSEC algorithm ${algorithm}`);
  }
}

export interface ImportCheck {
  /** Our algorithm (13). */
  zoneAlgorithm: number;
  /** Accept a key of another algorithm anyway (the operator's explicit choice). */
  force?: boolean;
  /** Our own DNSKEY RDATAs: importing one of them is refused. */
  own: Uint8Array[];
}

/** Validates one imported DNSKEY RDATA; returns its flags and tag or throws ImportError with the reason. */
export function checkImportedKey(rdata: Uint8Array, check: ImportCheck): { flags: number; algorithm: number; keyTag: number } {
  let f;
  try {
    f = parseDnskeyRdata(rdata);
  } catch (err) {
    throw new ImportError((err as Error).message);
  }
  if (f.protocol !== DNSKEY_PROTOCOL) throw new ImportError(`protocol ${f.protocol}: a DNSKEY's protocol must be 3 (RFC 4034 §2.1.2)`);
  if (f.flags & FLAG_REVOKE) throw new ImportError(`flags ${f.flags} have the REVOKE bit (RFC 5011 §3): a revoked key is not imported`);
  if (f.flags !== FLAGS_ZSK && f.flags !== FLAGS_KSK) {
    throw new ImportError(`flags ${f.flags}: an imported key must be a ZSK (256) or a KSK (257)`);
  }
  if (!(f.algorithm in KNOWN_ALGORITHMS)) throw new ImportError(`unknown DNSSEC algorithm ${f.algorithm}`);
  try {
    checkPublicKey(f.algorithm, f.publicKey);
  } catch (err) {
    throw err instanceof ImportError ? err : new ImportError(`public key does not parse for ${KNOWN_ALGORITHMS[f.algorithm]}: ${(err as Error).message}`);
  }
  if (f.algorithm !== check.zoneAlgorithm && !check.force) {
    throw new ImportError(
      `algorithm ${f.algorithm} (${KNOWN_ALGORITHMS[f.algorithm]}) differs from the zone's ${check.zoneAlgorithm} (${KNOWN_ALGORITHMS[check.zoneAlgorithm]}): ` +
        'every RRset must be signed with every algorithm in the DNSKEY RRset (RFC 4035 §2.2, RFC 6840 §5.11), and tandem signs ' +
        'only with its own; all providers must use one algorithm (RFC 8901 §4). Force the import only if you accept that.',
    );
  }
  if (check.own.some((o) => rdataEquals(o, rdata))) {
    throw new ImportError(`key ${keyTag(rdata)} is one of this server's own keys; import the other providers' keys`);
  }
  return { flags: f.flags, algorithm: f.algorithm, keyTag: keyTag(rdata) };
}

/**
 * Validates another provider's CDS or CDNSKEY record (RFC 7344 §3), published beside ours for a KSK we do not
 * serve (the capability matrix of multi-signer operators: "CDS/CDNSKEY for keys not in its own DNSKEY set").
 * A CDNSKEY passes the checks of an imported key; a CDS needs a digest type a parent may use and the zone's
 * algorithm. The RFC 8078 delete forms are refused: they ask the parent to remove every DS, which is the
 * zone's decision (DNSSEC status disabled), not one provider's record.
 */
export function checkForeignCds(type: 'CDS' | 'CDNSKEY', rdata: Uint8Array, check: ImportCheck): void {
  if (rdata.length >= 4 && rdata[3] === 0) {
    throw new ImportError('algorithm 0 is the RFC 8078 §4 delete form, which removes every DS at the parent: turn DNSSEC off for that (status disabled)');
  }
  if (type === 'CDNSKEY') {
    checkImportedKey(rdata, check);
    return;
  }
  if (rdata.length < 5) throw new ImportError('CDS RDATA is too short (RFC 7344 §3.1)');
  const algorithm = rdata[2];
  const digestType = rdata[3];
  if (digestType !== 2 && digestType !== 4) {
    throw new ImportError(`digest type ${digestType}: publish SHA-256 (2) or SHA-384 (4); SHA-1 (1) must not be used for new DS records (RFC 8624 §3.3)`);
  }
  if (algorithm !== check.zoneAlgorithm && !check.force) {
    throw new ImportError(`algorithm ${algorithm} differs from the zone's ${check.zoneAlgorithm}: all providers must use one algorithm (RFC 8901 §4)`);
  }
}

export { ALG_ECDSAP256SHA256 };
