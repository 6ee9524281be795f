/** node:net only for isIP, a pure check. */
import { isIP } from "node:net";
import type { Endpoint } from "../contracts/events.js";

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
  let close = open + 1;
  let colons = 0;
  for (let c = text.charCodeAt(close); close < ipLimit && c !== 93; c = text.charCodeAt(++close)) {
    if (!isIpChar(c)) return null;
    if (c === 58) colons++;
  }
  if (close >= ipLimit) return null;
  // `unknown[]`: a log with the address stripped (seed 000's forum post) still names a session.
  const stripped = close === open + 1 && open - start === 7 && text.startsWith("unknown", start);
  if (
    !stripped &&
    (colons > 0 ? isIP(text.slice(open + 1, close)) !== 6 : !isIpv4OrUnknown(text, open + 1, close))
  )
    return null;
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

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Whether `text[start, end)` is `unknown` or an IPv4 address as node's isIP takes it (dotted
 * decimal, no leading zeros). By hand: it is on the path of nearly every smtpd and postscreen line.
 */
function isIpv4OrUnknown(text: string, start: number, end: number): boolean {
  if (end - start === 7 && text.startsWith("unknown", start)) return true;
  let octets = 0;
  let i = start;
  while (i < end && octets < 4) {
    const first = i;
    let value = 0;
    while (i < end && i - first < 3 && isDigit(text.charCodeAt(i)))
      value = value * 10 + text.charCodeAt(i++) - 48;
    const digits = i - first;
    if (digits === 0 || value > 255 || (digits > 1 && text.charCodeAt(first) === 48)) return false;
    octets++;
    if (i < end && (text.charCodeAt(i) !== 46 /* . */ || octets === 4 || ++i === end)) return false;
  }
  return octets === 4 && i === end;
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
