/**
 * Who may send syslog (`SYSLOG_ALLOWED_SOURCES`), as rsyslog's `$AllowedSender` does: anyone who
 * can reach the port can otherwise write log lines that raise alerts, or bury real ones. Pure:
 * text in, a predicate out; the listeners apply it and count what it refuses.
 */
import { BlockList, isIP } from "node:net";

export interface SourceRange {
  address: string;
  prefix: number;
  family: "ipv4" | "ipv6";
}

/**
 * `192.0.2.10, 198.51.100.0/24, 2001:db8::/32` → ranges. A bare address is a one-address range.
 * Throws an Error naming the item it cannot read.
 */
export function parseSourceRanges(text: string): SourceRange[] {
  const items = text.split(/[\s,]+/).filter((item) => item !== "");
  return items.map((item) => {
    const [address = "", prefixText, extra] = item.split("/");
    const version = isIP(address);
    const maxPrefix = version === 6 ? 128 : 32;
    const prefix = prefixText === undefined ? maxPrefix : Number(prefixText);
    if (version === 0 || extra !== undefined || !/^\d{1,3}$/.test(prefixText ?? "0") || prefix > maxPrefix) {
      throw new Error(
        `"${item}" is not an IP address or CIDR range (e.g. 192.0.2.10, 198.51.100.0/24, 2001:db8::/32)`,
      );
    }
    return { address, prefix, family: version === 6 ? "ipv6" : "ipv4" };
  });
}

/**
 * A predicate over peer addresses. No ranges: everyone is allowed (the default, as before this
 * setting existed). IPv4 peers seen on a dual-stack socket (`::ffff:192.0.2.10`) match IPv4 ranges.
 */
export function sourceFilter(ranges: readonly SourceRange[]): (address: string) => boolean {
  if (ranges.length === 0) return () => true;
  const allowed = new BlockList();
  for (const range of ranges) allowed.addSubnet(range.address, range.prefix, range.family);
  return (address) => {
    const version = isIP(address);
    return version !== 0 && allowed.check(address, version === 6 ? "ipv6" : "ipv4");
  };
}

const isLoopback = sourceFilter(parseSourceRanges("127.0.0.0/8, ::1"));

/**
 * Whether listeners on `host` take lines from anywhere on the network: reachable beyond this
 * machine (`0.0.0.0`, `::` or an interface address) and no SYSLOG_ALLOWED_SOURCES.
 */
export function openToEveryone(host: string, ranges: readonly SourceRange[]): boolean {
  return ranges.length === 0 && host !== "localhost" && !isLoopback(host);
}
