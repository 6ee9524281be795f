/**
 * The few dozen strings a log repeats on every line (syslog tags, smtpd's command counters), each
 * handed back as the same string object: an event keeps the shared copy instead of a slice that
 * pins its line, and Maps and objects keyed by it reuse the hash V8 computed (and the string-table
 * entry it made) the first time, instead of hashing a fresh substring on every line.
 *
 * A fixed table of slots indexed by a cheap hash of length and three characters; a collision only
 * costs a copy, so the memory stays bounded however many distinct strings a hostile log sends. The
 * characters are the first, the last and the one a quarter from the end: tags share their start
 * (`postfix/`), and a middle character put `postfix/lmtp` and `postfix/smtp` in one slot, each
 * evicting the other on every line of a log that delivers by both.
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
    const hash =
      (length * 3) ^
      text.charCodeAt(start) ^
      text.charCodeAt(end - 1) ^
      (text.charCodeAt(end - 1 - (length >> 2)) << 1);
    const slot = hash & this.#mask;
    const known = this.#slots[slot] as string;
    if (sliceEquals(text, start, end, known)) return known;
    const fresh = keptCopy(text, start, end);
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

/**
 * `text.slice(start, end)` as a string of its own, for one kept to be compared with line after line:
 * neither a view into the line, which would pin it, nor flat's view into a copy, which V8 reads
 * through an indirection on every comparison (RecurringStrings.get took a quarter longer on such
 * kept tags). The JSON round trip copies exactly, lone surrogates included.
 */
export function keptCopy(text: string, start: number, end: number): string {
  const slice = text.slice(start, end);
  // Shorter slices are copies already (see flat).
  return slice.length < 13 ? slice : (JSON.parse(JSON.stringify(slice)) as string);
}
