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
  // IPv4, by far the most common: no colon anywhere, so none before a `%` either.
  if (!ip.includes(":")) return undefined;
  const address = ip.split("%")[0] ?? ip;
  if (!address.includes(":") || address.includes(".")) return undefined;
  const [head = "", tail] = address.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return undefined;
  const groups = [...headGroups, ...Array<string>(missing).fill("0"), ...tailGroups].slice(0, 4);
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/i.test(g))) return undefined;
  return `${groups.map((g) => Number.parseInt(g, 16).toString(16)).join(":")}::/64`;
}

/** `user@Example.ORG` → `example.org`; undefined for addresses without a domain. */
export function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf("@");
  return at >= 0 && at < address.length - 1 ? address.slice(at + 1).toLowerCase() : undefined;
}
