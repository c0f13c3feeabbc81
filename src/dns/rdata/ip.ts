// IPv4 and IPv6 addresses in text (RFC 4291 §2.2 input, RFC 5952 output as BIND prints it).

import { RdataError } from './error.js';

export function parseIPv4(text: string): Uint8Array {
  const m = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$/.exec(text);
  // Leading zeros are refused: some parsers read them as octal.
  if (!m || m.slice(1).some((p) => Number(p) > 255 || (p.length > 1 && p[0] === '0')))
    throw new RdataError(`bad IPv4 address '${text}'`);
  return Uint8Array.from(m.slice(1).map(Number));
}

export function formatIPv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

function groups(part: string, text: string): string[] {
  if (part === '') return [];
  const gs = part.split(':');
  if (gs.some((g) => g === '')) throw new RdataError(`bad IPv6 address '${text}'`);
  return gs;
}

export function parseIPv6(text: string): Uint8Array {
  const bad = () => new RdataError(`bad IPv6 address '${text}'`);
  const dbl = text.indexOf('::');
  if (dbl >= 0 && text.indexOf('::', dbl + 1) >= 0) throw bad();
  const head = groups(dbl >= 0 ? text.slice(0, dbl) : text, text);
  const tail = dbl >= 0 ? groups(text.slice(dbl + 2), text) : [];
  const last = dbl >= 0 ? tail : head;
  const words: number[][] = [head, tail].map(() => []);
  let v4: Uint8Array | undefined;
  // An embedded IPv4 address may only be the final 32 bits (RFC 4291 §2.2 form 3).
  if (last.length > 0 && last[last.length - 1].includes('.')) {
    try { v4 = parseIPv4(last.pop()!); } catch { throw bad(); }
  }
  [head, tail].forEach((gs, k) => {
    for (const g of gs) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
      words[k].push(parseInt(g, 16));
    }
  });
  if (v4) words[dbl >= 0 ? 1 : 0].push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
  const n = words[0].length + words[1].length;
  if (dbl >= 0 ? n > 7 : n !== 8) throw bad();
  const all = [...words[0], ...new Array(8 - n).fill(0), ...words[1]];
  const out = new Uint8Array(16);
  all.forEach((w, i) => { out[2 * i] = w >> 8; out[2 * i + 1] = w & 0xff; });
  return out;
}

/**
 * RFC 5952 §4: lower case, no leading zeros, the longest run (first on a tie) of two or more zero
 * groups as `::`. Like BIND's inet_ntop, IPv4-mapped (`::ffff:a.b.c.d`, RFC 5952 §5) and
 * IPv4-compatible (`::a.b.c.d`) addresses end in dotted quad.
 */
export function formatIPv6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[2 * i] << 8) | b[2 * i + 1]);
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) best = -1;
  if (best === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff)))
    return (bestLen === 5 ? '::ffff:' : '::') + formatIPv4(b.subarray(12));
  const hex = (ws: number[]) => ws.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(w);
  return hex(w.slice(0, best)) + '::' + hex(w.slice(best + bestLen));
}
