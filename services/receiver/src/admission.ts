/**
 * Who gets one of the receiver's stream connections when they run short. Without a policy, 1,024
 * idle connections from anyone lock every mail server out. Sources stand in three tiers:
 * `preferred` (SYSLOG_PREFERRED_SOURCES), `known` (has sent Postfix lines over TCP or TLS, whose
 * handshake proves the address), `unknown`. At the global cap a newcomer takes the place of the
 * most idle connection of a lower tier; each source also has its own cap, so one address cannot
 * take them all. Pure: no sockets and no clock; the listener passes times in and closes victims.
 */

export type Standing = "unknown" | "known" | "preferred";

const RANK: Record<Standing, number> = { unknown: 0, known: 1, preferred: 2 };

export interface ConnectionLimits {
  maxConnections: number;
  maxPerSource: number;
}

export interface TrackedConnection {
  readonly source: string;
  /** When the connection last received a byte (ms). */
  readonly lastActivityMs: number;
}

export type Admission<C> =
  | { type: "accept" }
  | { type: "refuse"; reason: "max_connections" | "max_connections_per_source" }
  | { type: "evict"; victim: C };

export class ConnectionTable<C extends TrackedConnection> {
  private readonly open = new Set<C>();
  private readonly perSource = new Map<string, number>();

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly standingOf: (source: string) => Standing,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /** Whether a new connection from `source` may be added, and whom it displaces if so. */
  admit(source: string): Admission<C> {
    if ((this.perSource.get(source) ?? 0) >= this.limits.maxPerSource)
      return { type: "refuse", reason: "max_connections_per_source" };
    if (this.open.size < this.limits.maxConnections) return { type: "accept" };
    const victim = this.victimFor(RANK[this.standingOf(source)]);
    return victim ? { type: "evict", victim } : { type: "refuse", reason: "max_connections" };
  }

  add(connection: C): void {
    this.open.add(connection);
    this.perSource.set(connection.source, (this.perSource.get(connection.source) ?? 0) + 1);
  }

  delete(connection: C): void {
    if (!this.open.delete(connection)) return;
    const left = (this.perSource.get(connection.source) ?? 1) - 1;
    if (left === 0) this.perSource.delete(connection.source);
    else this.perSource.set(connection.source, left);
  }

  /** The lowest-tier connection below `rank`, the most idle of its tier; none when all rank as high. */
  private victimFor(rank: number): C | undefined {
    let victim: C | undefined;
    let victimRank = rank;
    for (const connection of this.open) {
      const candidate = RANK[this.standingOf(connection.source)];
      if (
        candidate < victimRank ||
        (candidate === victimRank && victim && connection.lastActivityMs < victim.lastActivityMs)
      ) {
        victim = connection;
        victimRank = candidate;
      }
    }
    return victim;
  }
}

/**
 * Sources that have sent Postfix lines over a stream. Bounded, first come first kept: a flood of
 * addresses cannot grow it, nor push out the mail servers learned before it (list those in
 * SYSLOG_PREFERRED_SOURCES to have them preferred from the first connection, after any restart).
 */
export class KnownSources {
  private readonly sources = new Set<string>();

  constructor(private readonly max: number) {}

  has(source: string): boolean {
    return this.sources.has(source);
  }

  /** Returns whether `source` is new to the set. */
  learn(source: string): boolean {
    if (this.sources.has(source) || this.sources.size >= this.max) return false;
    this.sources.add(source);
    return true;
  }

  get size(): number {
    return this.sources.size;
  }
}
