// Durations and TTLs as written in zone files: plain seconds (`3600`) or unit-suffixed parts
// (`30s`, `15m`, `12h`, `14d`, `2w`, also combined as `1h30m`).

const UNIT: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Largest TTL a record may carry (RFC 2181 §8: unsigned 32-bit with the top bit clear). */
export const MAX_TTL = 2147483647;

/** Seconds for a duration text, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (/^[0-9]+$/.test(t)) return Number(t);
  if (!/^([0-9]+[smhdw])+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/([0-9]+)([smhdw])/g)) total += Number(m[1]) * UNIT[m[2]];
  return total;
}
