/**
 * Copies a string that is about to live long in correlation state, so it stops pinning the larger
 * string it was cut from. V8 represents a substring of 13 or more characters as a view into its
 * parent: one queue ID kept for hours would otherwise keep a whole 64 KiB read chunk alive.
 *
 * `(" " + s).slice(1)` flattens the two-part string into a fresh copy and slices that, so the
 * result's parent is the copy (one character longer than `s`), not the original. Measured on
 * Node 20: 200 × 55-character slices of 1.1 MB strings keep 252 MB alive as they are and 4 MB after
 * this, at ~45 ns per call (`JSON.parse(JSON.stringify(s))` ~200 ns, `Buffer.from(s).toString()`
 * ~160 ns). Shorter strings are always copies, never views, and are returned as they are.
 */
export function flat(s: string): string {
  return s.length < 13 ? s : ` ${s}`.slice(1);
}

export function flatOrUndefined(s: string | undefined): string | undefined {
  return s === undefined ? undefined : flat(s);
}
