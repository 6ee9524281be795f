import { flat } from "./flat.js";

/**
 * The few dozen strings a log repeats on every line (syslog tags, smtpd's command counters), each
 * handed back as the same string object: an event keeps the shared copy instead of a slice that
 * pins its line, and Maps and objects keyed by it reuse the hash V8 computed (and the string-table
 * entry it made) the first time, instead of hashing a fresh substring on every line.
 *
 * A fixed table of slots indexed by a cheap hash of length and two characters; a collision only
 * costs a slice, so the memory stays bounded however many distinct strings a hostile log sends.
 */
export class RecurringStrings {
  readonly #slots: string[];
  readonly #mask: number;

  /** `slots` must be a power of two. */
  constructor(slots: number) {
    this.#slots = new Array<string>(slots).fill("");
    this.#mask = slots - 1;
  }

  /** `text.slice(start, end)`, as the string seen before when it was. */
  get(text: string, start: number, end: number): string {
    const length = end - start;
    if (length <= 0) return "";
    const slot =
      ((length << 2) ^ text.charCodeAt(end - 1) ^ (text.charCodeAt(start + (length >> 1)) << 1)) & this.#mask;
    const known = this.#slots[slot] as string;
    if (sliceEquals(text, start, end, known)) return known;
    const fresh = flat(text.slice(start, end));
    this.#slots[slot] = fresh;
    return fresh;
  }
}

/**
 * Whether `text.slice(start, end)` is `known`, without the slice. Compared code by code: the
 * strings are short, and V8's `startsWith(known, start)` measured several times slower on them.
 */
export function sliceEquals(text: string, start: number, end: number, known: string): boolean {
  if (end - start !== known.length) return false;
  for (let i = known.length - 1; i >= 0; i--)
    if (text.charCodeAt(start + i) !== known.charCodeAt(i)) return false;
  return true;
}
