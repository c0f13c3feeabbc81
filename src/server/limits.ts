// Message size limits of the transports, shared by the request path (handle.ts) and the TSIG replies (tsig.ts).

export type Transport = 'udp' | 'tcp';

/** Our EDNS UDP payload size (DNS Flag Day 2020; RFC 6891 §6.2.5). */
export const EDNS_UDP_SIZE = 1232;

/** The response size limit: 64 KiB over TCP, else the client's EDNS size capped at ours, else 512 (RFC 1035 §4.2.1). */
export function sizeLimit(transport: Transport, udpSize: number | undefined): number {
  if (transport === 'tcp') return 65535;
  return udpSize === undefined ? 512 : Math.min(Math.max(udpSize, 512), EDNS_UDP_SIZE);
}
