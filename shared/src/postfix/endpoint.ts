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
 * `<` or `,`. IP characters, loosely: forum posts mask octets (`164.138.x.x`) and zones add `%eth0`.
 * One table lookup per character: endpoints are read on most smtpd lines.
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
 * An empty host (postscreen never resolves names) stays empty rather than becoming `unknown`.
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
  while (close < ipLimit && text.charCodeAt(close) !== 93) {
    if (!isIpChar(text.charCodeAt(close))) return null;
    close++;
  }
  if (close >= ipLimit) return null;
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

/** Bracket pairs tried before giving up, so a line full of `[` stays linear. */
const MAX_TRIES = 4;

/**
 * The first endpoint named anywhere in free text (warnings, remote replies). The bracketed part
 * must look like an address (has `.` or `:`, or is `unknown`), so `[redacted]` or `[ID 42]` are not
 * mistaken for one.
 */
export function findEndpoint(text: string): Endpoint | undefined {
  let open = text.indexOf("[");
  for (let tries = 0; open >= 0 && tries < MAX_TRIES; tries++) {
    let start = open;
    while (start > 0 && open - start < MAX_HOST && isHostChar(text.charCodeAt(start - 1))) start--;
    const match = endpointAt(text, start);
    if (match !== null && plausibleIp(match.endpoint)) return match.endpoint;
    open = text.indexOf("[", open + 1);
  }
  return undefined;
}

function plausibleIp({ host, ip }: Endpoint): boolean {
  if (ip === "unknown") return true;
  if (ip === "") return host === "unknown";
  return ip.includes(".") || ip.includes(":");
}
