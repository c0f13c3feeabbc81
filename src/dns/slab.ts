// Long-lived small byte strings (owner-name labels, RDATA) are copied into shared slabs. In V8 a
// Uint8Array with its own buffer costs about 215 bytes of heap even for a 4-byte A record; a view into
// a slab costs about 95. At a million records that is the difference between fitting in memory or not
// (issue 6: a 1M-record zone in under 1.5 GiB). Views are never written to after they are made.

const SLAB_BYTES = 64 * 1024;
/** Larger byte strings get their own buffer: a slab is for the many small ones. */
const MAX_SHARED = 512;

let slab = new Uint8Array(SLAB_BYTES);
let used = 0;

/** A copy of `bytes` that shares its ArrayBuffer with other small copies. */
export function keep(bytes: Uint8Array): Uint8Array {
  const n = bytes.length;
  if (n > MAX_SHARED) return bytes.slice();
  if (used + n > SLAB_BYTES) {
    slab = new Uint8Array(SLAB_BYTES);
    used = 0;
  }
  const out = slab.subarray(used, used + n);
  out.set(bytes);
  used += n;
  return out;
}
