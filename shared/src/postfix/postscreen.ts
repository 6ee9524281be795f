/**
 * postscreen verdicts (and tlsproxy's, which share the shape) and anvil's rate statistics. node:net
 * only for isIP, a pure check.
 */
import { isIP } from "node:net";
import type { EventOf } from "../contracts/events.js";
import { endpointAt } from "./endpoint.js";
import { type Head, withHead } from "./fields.js";

/** Up-to-four upper-case words: `PASS NEW`, `COMMAND TIME LIMIT`, `NON-SMTP COMMAND`, `WHITELIST VETO`. */
const ACTION = /^[A-Z][A-Z-]{0,30}(?: [A-Z][A-Z-]{0,30}){0,3}(?= )/;
const DNSBL_RANK = /^DNSBL rank (\d{1,4}) /;
/**
 * `COMMAND TIME LIMIT from [ip]:port after RCPT`, `NON-SMTP COMMAND ... after CONNECT: GET / ...`;
 * `.` is the end of DATA. Only right after the client: `HANGUP ... in tests after SMTP handshake` has none.
 */
const AFTER = " after ";
const STAGE = /^([A-Z][A-Z-]{0,31}|\.)(?::|$)/;
/** The client is the first bracket within a few words: `HANGUP after 2.5 from [ip]:port ...`. */
const MAX_CLIENT_OFFSET = 64;

export function parsePostscreen(head: Head, text: string): EventOf<"postscreen"> | null {
  const action = ACTION.exec(text);
  if (action === null) return null;
  const open = text.indexOf("[", action[0].length);
  if (open < 0 || open - action[0].length > MAX_CLIENT_OFFSET) return null;
  const match = endpointAt(text, open);
  if (match === null) return null;
  const event: EventOf<"postscreen"> = withHead(head, {
    kind: "postscreen",
    action: action[0],
    client: match.endpoint,
  });
  const rank = DNSBL_RANK.exec(text);
  if (rank !== null) event.dnsblRank = Number(rank[1]);
  if (text.startsWith(AFTER, match.end)) {
    const stage = STAGE.exec(text.slice(match.end + AFTER.length));
    if (stage !== null) event.stage = stage[1];
  }
  return event;
}

/** Every anvil statistic starts with `max`: connection rate/count, message/recipient/newtls/auth rate, cache size. */
const ANVIL = /^(max [a-z]{1,16}(?: [a-z]{1,16}){0,3}) (\d[^ ]{0,31})(?: for \(([^)]{1,128})\))?/;

/** `statistics: max connection rate 3/60s for (smtp:198.51.100.12) at Nov  3 10:12:01` (text after `statistics: `). */
export function parseAnvil(head: Head, text: string, at: number): EventOf<"anvil"> | null {
  const match = ANVIL.exec(text.slice(at));
  if (match === null) return null;
  // Anvil's `service` is the master.cf service the client hit, which overrides the (absent) syslog one.
  const event: EventOf<"anvil"> = withHead(head, {
    kind: "anvil",
    statistic: match[1] as string,
    value: match[2] as string,
  });
  const ident = match[3];
  if (ident !== undefined) {
    const split = splitAnvilIdent(ident);
    event.service = split.service;
    if (split.clientIp !== undefined) event.clientIp = split.clientIp;
  }
  return event;
}

/**
 * anvil's `service:client`. The service is the master.cf service name, which holds colons itself
 * when the entry is `host:port` (a real Postfix logs `(127.0.0.1:2525:192.0.2.7)`), and the client
 * may be IPv6 (`smtp:2001:db8::7`): the client is the longest suffix after a colon that is an IP
 * address, or `unknown` (`smtp:unknown`).
 */
function splitAnvilIdent(ident: string): { service: string; clientIp?: string } {
  for (let colon = ident.indexOf(":"); colon > 0; colon = ident.indexOf(":", colon + 1)) {
    const ip = ident.slice(colon + 1);
    if (isIP(ip) !== 0 || ip === "unknown") return { service: ident.slice(0, colon), clientIp: ip };
  }
  const colon = ident.indexOf(":");
  return { service: colon > 0 ? ident.slice(0, colon) : ident };
}
