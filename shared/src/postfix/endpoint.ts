import type { Endpoint } from "../contracts/events.js";
import { isDigit } from "../syslog/digits.js";

/** A parsed endpoint and the index just after it (after the port, if any). */
export interface EndpointMatch {
  endpoint: Endpoint;
  end: number;
}

const MAX_HOST = 255;
/** Longest IPv6 with a zone suffix fits easily; the bound keeps hostile brackets cheap. */
const MAX_IP = 64;

/**
 * Host characters: anything printable but brackets, separators and quotes (`[ ] = < > ( ) , ; : " '`):
 * forum posts mask names (`inver**.com`), and a scan backwards from `[` must stop at `relay=`, `(`,
 * `<` or `,`. IP characters, loosely, for the scan to the closing bracket; what they spell is then
 * checked. One table lookup per character: endpoints are read on most smtpd lines.
 */
const HOST = 1;
const IP = 2;
const CHARACTER_CLASSES = new Uint8Array(128);
for (let c = 33; c < 127; c++) {
  const char = String.fromCharCode(c);
  CHARACTER_CLASSES[c] = (`[]=<>(),;:"'`.includes(char) ? 0 : HOST) | (/[0-9:A-Za-z.%-]/.test(char) ? IP : 0);
}

function isHostChar(c: number): boolean {
  return c < 128 && ((CHARACTER_CLASSES[c] as number) & HOST) !== 0;
}

function isIpChar(c: number): boolean {
  return c < 128 && ((CHARACTER_CLASSES[c] as number) & IP) !== 0;
}

/**
 * Reads `host[ip]`, `host[ip]:port` or postscreen's `[ip]:port` starting exactly at `start`.
 * An empty host (postscreen never resolves names) stays empty rather than becoming `unknown`. The
 * brackets must hold an IPv4 or IPv6 address or Postfix's `unknown` (or nothing, after `unknown`):
 * `dict_ldap_get_values[1]:`, `relay=host[private/dovecot-lmtp]` and masked forum addresses
 * (`164.138.x.x`) are no endpoint.
 */
export function endpointAt(text: string, start: number): EndpointMatch | null {
  const hostLimit = Math.min(text.length, start + MAX_HOST + 1);
  let open = start;
  while (open < hostLimit && text.charCodeAt(open) !== 91) {
    if (!isHostChar(text.charCodeAt(open))) return null;
    open++;
  }
  if (open >= hostLimit) return null;
  const ipLimit = Math.min(text.length, open + MAX_IP + 2);
  const close = addressEnd(text, open + 1, ipLimit);
  if (close < 0) return null;
  // `unknown[]`: a log with the address stripped (seed 000's forum post) still names a session.
  if (close === open + 1 && !(open - start === 7 && text.startsWith("unknown", start))) return null;
  const endpoint: Endpoint = { host: text.slice(start, open), ip: text.slice(open + 1, close) };
  let end = close + 1;
  if (text.charCodeAt(end) === 58) {
    let p = end + 1;
    while (p < text.length && p - end <= 6 && isDigit(text.charCodeAt(p))) p++;
    const digits = p - end - 1;
    if (digits >= 1 && digits <= 5) {
      endpoint.port = Number(text.slice(end + 1, p));
      end = p;
    }
  }
  return { endpoint, end };
}

/**
 * The index of the `]` that closes the address starting at `start`, or -1 when the brackets do not
 * hold an IPv4 address (dotted decimal without leading zeros, as node's isIP takes it), an IPv6
 * address (isIP) or `unknown`. IPv4 is checked in the same pass that finds the bracket: it is on
 * nearly every smtpd and postscreen line.
 */
function addressEnd(text: string, start: number, limit: number): number {
  let close = start;
  let colons = 0;
  let dots = 0;
  let octet = 0;
  let octetDigits = 0;
  let ipv4 = true;
  for (let c = text.charCodeAt(close); close < limit && c !== 93; c = text.charCodeAt(++close)) {
    if (c >= 48 && c <= 57) {
      if (octetDigits === 1 && octet === 0) ipv4 = false;
      octet = octet * 10 + c - 48;
      octetDigits++;
    } else if (c === 46 /* . */) {
      if (octetDigits === 0 || octet > 255) ipv4 = false;
      dots++;
      octet = 0;
      octetDigits = 0;
    } else {
      if (!isIpChar(c)) return -1;
      if (c === 58 /* : */) colons++;
      ipv4 = false;
    }
  }
  if (close >= limit) return -1;
  if (ipv4 && dots === 3 && octetDigits > 0 && octet <= 255) return close;
  if (close === start) return close;
  if (colons > 0) return isIpv6At(text, start, close) ? close : -1;
  return close - start === 7 && text.startsWith("unknown", start) ? close : -1;
}

function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/**
 * Whether `text[start, end)` is an IPv6 address as node's isIP reads one: 8 groups of 1 to 4 hex
 * digits, or fewer around one `::`, the last two may be a dotted IPv4 address, and a `%zone` may
 * follow. By hand, since isIP's regex was a tenth of the parse time of lines from IPv6 clients;
 * endpoint.test.ts checks the two agree.
 */
export function isIpv6At(text: string, start: number, end: number): boolean {
  let groups = 0;
  let compressed = false;
  let i = start;
  if (text.charCodeAt(i) === 58 /* : */) {
    if (text.charCodeAt(i + 1) !== 58) return false;
    compressed = true;
    i += 2;
  }
  while (i < end && text.charCodeAt(i) !== 37 /* % */) {
    let j = i;
    while (j < end && j - i < 5 && isHexDigit(text.charCodeAt(j))) j++;
    if (j === i) return false;
    if (text.charCodeAt(j) === 46 /* . */ && j < end) {
      const zone = text.indexOf("%", i);
      const v4End = zone < 0 || zone >= end ? end : zone;
      if (!isIpv4At(text, i, v4End)) return false;
      groups += 2;
      i = v4End;
      break;
    }
    if (j - i > 4) return false;
    groups++;
    i = j;
    if (i === end || text.charCodeAt(i) === 37) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (text.charCodeAt(i) === 58 && i < end) {
      if (compressed) return false;
      compressed = true;
      i++;
    } else if (i === end || text.charCodeAt(i) === 37) return false;
  }
  if (i < end && !isZone(text, i + 1, end)) return false;
  return compressed ? groups <= 7 : groups === 8;
}

/** `%eth0` after an address: what isIP takes, 1 or more of `[0-9A-Za-z.:-]`. */
function isZone(text: string, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    const word = (c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!word && c !== 45 && c !== 46) return false;
  }
  return true;
}

/** Dotted decimal without leading zeros, as isIP takes it. */
function isIpv4At(text: string, start: number, end: number): boolean {
  let octets = 0;
  let i = start;
  while (octets < 4) {
    const first = i;
    let value = 0;
    while (i < end && i - first < 3 && isDigit(text.charCodeAt(i)))
      value = value * 10 + text.charCodeAt(i++) - 48;
    const digits = i - first;
    if (digits === 0 || value > 255 || (digits > 1 && text.charCodeAt(first) === 48)) return false;
    octets++;
    if (octets < 4) {
      if (i >= end || text.charCodeAt(i) !== 46) return false;
      i++;
    }
  }
  return i === end;
}

/** Bracket pairs tried before giving up, so a line full of `[` stays linear. */
const MAX_TRIES = 4;

/**
 * The first endpoint named anywhere in free text (warnings, remote replies). Only an address in the
 * brackets makes one, so `[redacted]` or `[ID 42]` are not mistaken for one.
 */
export function findEndpoint(text: string): Endpoint | undefined {
  let open = text.indexOf("[");
  for (let tries = 0; open >= 0 && tries < MAX_TRIES; tries++) {
    let start = open;
    while (start > 0 && open - start < MAX_HOST && isHostChar(text.charCodeAt(start - 1))) start--;
    const match = endpointAt(text, start);
    if (match !== null) return match.endpoint;
    open = text.indexOf("[", open + 1);
  }
  return undefined;
}
