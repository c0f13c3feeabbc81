// A listener that cannot bind says which address, for what, why, and what to do: not a raw
// `listen EADDRINUSE: address already in use`.
import { formatEndpoint, type Endpoint } from '../config/server.js';

export class ListenError extends Error {
  constructor(message: string, readonly code?: string) {
    super(message);
    this.name = 'ListenError';
  }
}

/** `what`: the listener ('DNS over TCP', 'the admin API'); `flag`: where its address is set (`--listen`). */
export function listenError(err: unknown, at: Endpoint, what: string, flag: string): Error {
  const code = (err as NodeJS.ErrnoException).code;
  const where = `cannot listen on ${formatEndpoint(at)} for ${what}`;
  switch (code) {
    case 'EADDRINUSE':
      return new ListenError(`${where}: the address is already in use (by another tandem, another server, or a program still holding it); stop that or choose another address with ${flag}`, code);
    case 'EACCES': case 'EPERM':
      return new ListenError(`${where}: permission denied; ports below 1024 need root or the CAP_NET_BIND_SERVICE capability (systemd: AmbientCapabilities=CAP_NET_BIND_SERVICE), or choose a port from 1024 up with ${flag}`, code);
    case 'EADDRNOTAVAIL':
      return new ListenError(`${where}: no network interface of this machine has that address; choose one it has with ${flag}`, code);
    default:
      return err instanceof Error ? new ListenError(`${where}: ${err.message}`, code) : new ListenError(`${where}: ${String(err)}`);
  }
}
