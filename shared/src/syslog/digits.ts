/** Decimal digits read from a string's character codes, for the parsers' fixed-width fields. */

export function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** The non-negative integer in `count` decimal digits at `at`, or -1 when one is not a digit. */
export function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const code = text.charCodeAt(i);
    if (!isDigit(code)) return -1;
    value = value * 10 + (code - 48);
  }
  return value;
}
