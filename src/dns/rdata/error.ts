/** A malformed RDATA value, in presentation or wire form; the message says which field and why. */
export class RdataError extends Error {
  override name = 'RdataError';
}
