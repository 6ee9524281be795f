import type { EventOf, PostfixEvent } from "../../../../shared/src/contracts/events.js";

/** The remote SMTP client of an event, by its bracketed address; undefined when Postfix did not know it. */
export function clientIpOf(event: PostfixEvent): string | undefined {
  const ip = rawClientIp(event);
  return ip && ip !== "unknown" ? ip : undefined;
}

function rawClientIp(event: PostfixEvent): string | undefined {
  switch (event.kind) {
    case "tls":
      return event.direction === "in" ? event.peer.ip : undefined;
    case "anvil":
      return event.clientIp;
    default:
      return "client" in event ? (event as EventOf<"connect">).client?.ip : undefined;
  }
}

/**
 * The /64 an IPv6 address belongs to, written `2001:db8:0:1::/64`; undefined for IPv4 and
 * IPv4-mapped addresses. Attackers with an IPv6 allocation rotate through the low 64 bits for free,
 * so per-address counting alone misses them.
 */
export function ipv6Net64(ip: string): string | undefined {
  return ipv6Prefix(ip, 4);
}

/**
 * The network a spray or an abusive client comes from: the /24 of an IPv4 address, the /48 of an
 * IPv6 one (a site's allocation: a botnet renting a /24 or an attacker holding a /48 shows up as
 * one network). Undefined for anything that is not an address.
 */
export function clientNetwork(ip: string): string | undefined {
  return ipv4Net24(ip) ?? ipv6Prefix(ip, 3);
}

/**
 * The network a user logs in from: the /24 of an IPv4 address, the /64 of an IPv6 one (privacy
 * addresses change within the /64 every day; the /64 is the user's line).
 */
export function loginNetwork(ip: string): string | undefined {
  return ipv4Net24(ip) ?? ipv6Prefix(ip, 4);
}

const V4_MAPPED = /^::ffff:/i;
const DOT = 46;
const ZERO = 48;
const NINE = 57;

/**
 * `192.0.2.77` (or `::ffff:192.0.2.77`) → `192.0.2.0/24`: four dot-separated runs of one to three
 * digits, each at most 255. Scanned by hand: a regex match and its five strings per call were the
 * better part of the login history's and the network rules' time.
 */
export function ipv4Net24(ip: string): string | undefined {
  let at = ip.startsWith(":") && V4_MAPPED.test(ip) ? 7 : 0;
  let network = "";
  for (let octet = 0; octet < 4; octet++) {
    if (octet > 0 && ip.charCodeAt(at++) !== DOT) return undefined;
    const start = at;
    let value = 0;
    for (let c = ip.charCodeAt(at); c >= ZERO && c <= NINE && at - start < 3; c = ip.charCodeAt(++at))
      value = value * 10 + (c - ZERO);
    if (at === start || value > 255) return undefined;
    if (octet < 3) network += `${value}.`;
  }
  return at === ip.length ? `${network}0/24` : undefined;
}

/** The first `groups` 16-bit groups of an IPv6 address, as `2001:db8:1::/48`. */
function ipv6Prefix(ip: string, groups: number): string | undefined {
  // IPv4, by far the most common: no colon anywhere, so none before a `%` either.
  if (!ip.includes(":")) return undefined;
  const address = ip.split("%")[0] ?? ip;
  if (!address.includes(":") || address.includes(".")) return undefined;
  const [head = "", tail] = address.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  const all = [...headGroups, ...Array<string>(missing).fill("0"), ...tailGroups];
  if (all.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  const prefix = all.slice(0, groups).map((g) => Number.parseInt(g, 16).toString(16));
  return `${prefix.join(":")}::/${groups * 16}`;
}

/** `user@Example.ORG` → `example.org`; undefined for addresses without a domain. */
export function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf("@");
  return at >= 0 && at < address.length - 1 ? address.slice(at + 1).toLowerCase() : undefined;
}
