// Client addresses for response rate limiting (rrl.ts): parsed and masked to the configured prefix per answer,
// without allocating (rinfo.address is a string).

/** The client's prefix as parsed: IPv4 (one word) or IPv6 (eight groups), masked. */
export interface Prefix {
  v6: boolean;
  v4: number;
  g: Uint16Array;
  len: number;
}

function parseV4(s: string, i: number, end: number): number {
  let v = 0, part = 0, digits = 0, dots = 0;
  for (; i < end; i++) {
    const ch = s.charCodeAt(i);
    if (ch === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      v = v * 256 + part;
      part = 0;
      digits = 0;
    } else if (ch >= 48 && ch <= 57 && digits < 3) {
      part = part * 10 + ch - 48;
      digits++;
      if (part > 255) return -1;
    } else return -1;
  }
  if (digits === 0 || dots !== 3) return -1;
  return v * 256 + part;
}

function hexVal(ch: number): number {
  if (ch >= 48 && ch <= 57) return ch - 48;
  if (ch >= 97 && ch <= 102) return ch - 87;
  if (ch >= 65 && ch <= 70) return ch - 55;
  return -1;
}

/**
 * An IPv6 address (RFC 4291 §2.2 text forms, a `%zone` ignored) into eight groups; false when malformed. Not
 * dns/rdata/ip.ts `parseIPv6`: this one runs per answer, so it allocates nothing and throws nothing.
 */
export function parseV6(s: string, g: Uint16Array): boolean {
  let end = s.indexOf('%');
  if (end < 0) end = s.length;
  let n = 0, gap = -1, i = 0;
  if (s.charCodeAt(0) === 58 && s.charCodeAt(1) === 58) {
    gap = 0;
    i = 2;
  }
  while (i < end) {
    let j = i, v = 0;
    for (let h; j < end && (h = hexVal(s.charCodeAt(j))) >= 0 && j - i < 4; j++) v = v * 16 + h;
    if (j < end && s.charCodeAt(j) === 46) {
      const v4 = parseV4(s, i, end);
      if (v4 < 0 || n > 6) return false;
      g[n++] = v4 >>> 16;
      g[n++] = v4 & 0xffff;
      break;
    }
    if (j === i || n >= 8) return false;
    g[n++] = v;
    if (j === end) break;
    if (s.charCodeAt(j) !== 58) return false;
    if (s.charCodeAt(j + 1) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === end) return false;
    }
  }
  if (gap >= 0) {
    if (n > 7) return false;
    const tail = n - gap;
    for (let k = tail - 1; k >= 0; k--) g[8 - tail + k] = g[gap + k];
    g.fill(0, gap, 8 - tail);
  } else if (n !== 8) return false;
  return true;
}

/** `address` masked to the configured prefix length, into `p`; false for an address we cannot read. */
export function clientPrefix(address: string, v4len: number, v6len: number, p: Prefix): boolean {
  if (!address.includes(':')) {
    const v = parseV4(address, 0, address.length);
    if (v < 0) return false;
    p.v6 = false;
    p.len = v4len;
    p.v4 = v4len === 0 ? 0 : (v & (0xffffffff << (32 - v4len))) >>> 0;
    return true;
  }
  const g = p.g;
  if (!parseV6(address, g)) return false;
  // An IPv4-mapped address (::ffff:a.b.c.d, RFC 4291 §2.5.5.2) is the IPv4 client it stands for.
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    p.v6 = false;
    p.len = v4len;
    const v = ((g[6] << 16) | g[7]) >>> 0;
    p.v4 = v4len === 0 ? 0 : (v & (0xffffffff << (32 - v4len))) >>> 0;
    return true;
  }
  p.v6 = true;
  p.len = v6len;
  for (let k = 0; k < 8; k++) {
    const keep = Math.max(0, Math.min(16, v6len - k * 16));
    g[k] = keep === 0 ? 0 : g[k] & ((0xffff << (16 - keep)) & 0xffff);
  }
  return true;
}

/** The prefix as an operator writes it: `192.0.2.0/24`, `2001:db8:0:100::/56`. */
export function prefixText(p: Prefix): string {
  if (!p.v6) return `${p.v4 >>> 24}.${(p.v4 >>> 16) & 0xff}.${(p.v4 >>> 8) & 0xff}.${p.v4 & 0xff}/${p.len}`;
  const groups = Math.min(8, Math.max(1, Math.ceil(p.len / 16)));
  const parts: string[] = [];
  for (let k = 0; k < groups; k++) parts.push(p.g[k].toString(16));
  return `${parts.join(':')}${groups < 8 ? '::' : ''}/${p.len}`;
}

