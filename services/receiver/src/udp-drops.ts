/**
 * Datagrams the kernel dropped because a UDP socket's receive buffer was full never reach the
 * process: Linux counts them per socket in the last column (`drops`) of /proc/net/udp and
 * /proc/net/udp6. Reading that column is the only way to report this loss instead of hiding it.
 */
import { readFileSync } from "node:fs";

/** Sums the `drops` column of the sockets bound to `port` in one /proc/net/udp{,6} table. */
export function udpDropsFor(table: string, port: number): number {
  const portHex = port.toString(16).toUpperCase().padStart(4, "0");
  let drops = 0;
  for (const line of table.split("\n").slice(1)) {
    const columns = line.trim().split(/\s+/);
    const local = columns[1];
    if (local === undefined || local.slice(local.lastIndexOf(":") + 1) !== portHex) continue;
    drops += Number(columns[columns.length - 1]) || 0;
  }
  return drops;
}

/** Undefined where /proc/net/udp does not exist (not Linux): the metric is then absent, not zero. */
export function readKernelUdpDrops(port: number): number | undefined {
  let found = false;
  let drops = 0;
  for (const path of ["/proc/net/udp", "/proc/net/udp6"]) {
    try {
      drops += udpDropsFor(readFileSync(path, "utf8"), port);
      found = true;
    } catch {
      // this table is absent (no IPv6, or not Linux)
    }
  }
  return found ? drops : undefined;
}
