/**
 * How the event stream is split. Correlation needs each mail server's lines together and in order,
 * so every event of one mail host goes to one partition, `postwatch.events.batch.<p>`: producer and
 * consumers must compute the same `p`, so the hash is part of the contract.
 */

/** FNV-1a, 32 bit: fast, stable across processes and versions, well spread on short strings. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** The partition of a mail host's events, of `partitions` (EVENT_PARTITIONS); a line without a host has `""`. */
export const eventPartition = (host: string, partitions: number): number => fnv1a(host) % partitions;
