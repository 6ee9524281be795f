import type { Endpoint, PostfixEvent } from "../contracts/events.js";
import { RecencyMap } from "./correlate-recency.js";
import { flat } from "./flat.js";

const PID_LIMIT = 2 ** 22;
/** Keeps program index × PID_LIMIT + pid below 2^30, a small integer to V8. */
const MAX_NUMBERED_PROGRAMS = 255;

interface Session {
  client: Endpoint;
  /** User decoded from this session's last AUTH PLAIN debug line, until its outcome is logged. */
  attemptedUser?: string;
  lastSeenMs: number;
}

/**
 * Follows smtpd sessions by host + program + pid, so lines that Postfix logs without the client
 * (TLS/SMTP debug output, seed 002) can be tied back to it. One smtpd process serves one session at
 * a time, which is what makes the pid a session key between `connect` and `disconnect`.
 */
export class SessionTracker {
  readonly #sessions = new RecencyMap<Session, string | number>();
  /** See #key. */
  #primaryHost: string | undefined;
  readonly #programIndex = new Map<string, number>();
  readonly #maxSessions: number;
  readonly #maxIdleMs: number;
  #evicted = 0;

  constructor(maxSessions: number, maxIdleSeconds: number) {
    this.#maxSessions = maxSessions;
    this.#maxIdleMs = maxIdleSeconds * 1000;
  }

  get size(): number {
    return this.#sessions.size;
  }

  get evicted(): number {
    return this.#evicted;
  }

  /** Returns the event, or an enriched copy of it when the session knows what the line left out. */
  enrich(event: PostfixEvent, atMs: number): PostfixEvent {
    if (event.pid === null) return event;
    const key = this.#key(event.host, event.program, event.pid);
    if (event.kind === "disconnect") {
      this.#sessions.delete(key);
      return event;
    }
    if (event.kind === "connect") {
      this.#open(key, { client: event.client, lastSeenMs: atMs });
      return event;
    }
    const lineClient = "client" in event ? event.client : undefined;
    let session = this.#sessions.get(key);
    if (!session || (lineClient && lineClient.ip !== session.client.ip)) {
      // Joined mid-session (receiver restart, rotated log) or missed a connect: an smtpd line naming
      // its client is the best evidence of whom this process is talking to now.
      if (event.daemon !== "smtpd" || !lineClient) return event;
      session = { client: lineClient, lastSeenMs: atMs };
    }
    session.lastSeenMs = atMs;
    this.#open(key, session);
    return enrichFromSession(event, session);
  }

  /** Forgets sessions idle since before `nowMs - maxIdleSeconds` (their disconnect was lost). */
  sweep(nowMs: number): void {
    const cutoffMs = nowMs - this.#maxIdleMs;
    this.#evicted += this.#sessions.evictWhile((session) => session.lastSeenMs < cutoffMs).length;
  }

  /**
   * host + program + pid. On the first host seen, a small number (program index × 2^22 + pid: Linux
   * pids stay below 2^22) rather than a joined string, which had to be built, flattened and hashed
   * for every line; other hosts, odd pids and past 255 programs get the string, which cannot collide.
   */
  #key(host: string, program: string, pid: number): string | number {
    this.#primaryHost ??= flat(host);
    if (host === this.#primaryHost && pid >= 0 && pid < PID_LIMIT && Number.isInteger(pid)) {
      let index = this.#programIndex.get(program);
      if (index === undefined && this.#programIndex.size < MAX_NUMBERED_PROGRAMS) {
        index = this.#programIndex.size;
        this.#programIndex.set(flat(program), index);
      }
      if (index !== undefined) return index * PID_LIMIT + pid;
    }
    return `${host}\0${program}\0${pid}`;
  }

  #open(key: string | number, session: Session): void {
    this.#sessions.touch(key, session);
    this.#evicted += this.#sessions.evictBeyond(this.#maxSessions).length;
  }
}

function enrichFromSession(event: PostfixEvent, session: Session): PostfixEvent {
  switch (event.kind) {
    case "debug": {
      if (event.authUsername !== undefined) session.attemptedUser = event.authUsername;
      return event.client ? event : { ...event, client: session.client };
    }
    case "sasl_auth_failed": {
      const attemptedUser = session.attemptedUser;
      session.attemptedUser = undefined;
      // The AUTH PLAIN payload names the user only for a PLAIN attempt; LOGIN sends it separately.
      if (event.saslUsername !== undefined || attemptedUser === undefined || event.mechanism !== "PLAIN") {
        return event;
      }
      return { ...event, saslUsername: attemptedUser };
    }
    case "client":
      session.attemptedUser = undefined;
      return event;
    default:
      return event;
  }
}
