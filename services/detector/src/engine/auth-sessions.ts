/**
 * De-duplicates SASL failures within one smtpd session. A session logs one
 * `SASL ... authentication failed` warning per attempt, maybe `too many errors after AUTH`, and
 * finally `disconnect ... auth=0/N`. Each line implies "at least this many failures so far"; the
 * session remembers how many it already counted and each line adds only what is new. A session
 * is one smtpd process (host + pid) between `connect` and `disconnect`.
 */
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";

/** smtpd processes alive at once are bounded by process limits; this only guards against lost disconnects. */
export const DEFAULT_MAX_AUTH_SESSIONS = 100_000;

export class AuthSessions {
  private readonly counted = new Map<string, number>();

  constructor(private readonly maxSessions = DEFAULT_MAX_AUTH_SESSIONS) {}

  /** How many new SASL failures this event shows. */
  newFailures(event: PostfixEvent): number {
    switch (event.kind) {
      case "connect":
        this.forget(event);
        return 0;
      case "sasl_auth_failed":
        return this.atLeast(event, this.countedSoFar(event) + 1, false);
      case "too_many_errors":
        return event.stage.toUpperCase() === "AUTH" ? this.atLeast(event, 1, false) : 0;
      case "disconnect": {
        const auth = event.commands.auth;
        return this.atLeast(event, auth ? auth.total - auth.ok : 0, true);
      }
      default:
        return 0;
    }
  }

  get size(): number {
    return this.counted.size;
  }

  private atLeast(event: PostfixEvent, implied: number, sessionEnds: boolean): number {
    const already = this.countedSoFar(event);
    const fresh = Math.max(0, implied - already);
    const key = sessionKey(event);
    if (key === undefined) return fresh;
    this.counted.delete(key);
    if (!sessionEnds) {
      this.counted.set(key, already + fresh);
      if (this.counted.size > this.maxSessions)
        this.counted.delete(this.counted.keys().next().value as string);
    }
    return fresh;
  }

  private countedSoFar(event: PostfixEvent): number {
    const key = sessionKey(event);
    return key === undefined ? 0 : (this.counted.get(key) ?? 0);
  }

  private forget(event: PostfixEvent): void {
    const key = sessionKey(event);
    if (key !== undefined) this.counted.delete(key);
  }
}

/** Without a pid lines cannot be tied to a session; they then count as they come. */
function sessionKey(event: PostfixEvent): string | undefined {
  return event.pid === null ? undefined : `${event.host}\u0000${event.instance ?? ""}\u0000${event.pid}`;
}
