/**
 * Per smtpd session SASL bookkeeping, done once per event before any rule looks at it, where each
 * host's lines arrive in order: the correlation stage (stages/correlation-stage.ts).
 *
 * De-duplication: a session logs one `SASL ... authentication failed` warning per attempt, maybe
 * `too many errors after AUTH`, and finally `disconnect ... auth=0/N`. Each line implies "at least
 * this many failures so far"; the session remembers how many it already saw and each line adds
 * only what is new. A session is one smtpd process (host + pid) between `connect` and `disconnect`.
 *
 * Not every failure is a guess. A failure whose reason says the auth backend was unreachable
 * (dovecot or saslauthd restarting) or that the client asked for a mechanism we do not offer
 * tried no password: it is seen (so the disconnect's `auth=0/N` does not count it again) but not
 * counted. fail2ban's postfix filter (mode=auth) ignores the same two reasons.
 *
 * A session whose AUTH then succeeds (`client=... sasl_username=`, or `auth=1/2` on disconnect)
 * proved it knew the password: its counted failures are reported as `authForgiven`, once, for
 * rules that forgive typos (see RuleDefinition.forgiveOn).
 */
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { RecencyMap } from "../../../../shared/src/postfix/correlate-recency.js";
import type { EventContext } from "./fields.js";

/** smtpd processes alive at once are bounded by process limits; this only guards against lost disconnects. */
export const DEFAULT_MAX_AUTH_SESSIONS = 100_000;

/** SASL failure reasons that are not a password guess: auth backend outages, unsupported mechanisms. */
export const NOT_A_GUESS = /^\s*(Connection lost to authentication server|Invalid authentication mechanism)/i;

export function isPasswordGuess(event: PostfixEvent): boolean {
  return event.kind !== "sasl_auth_failed" || !NOT_A_GUESS.test(event.reason);
}

interface Session {
  /** Failures this session showed, guesses or not: what later lines are compared with. */
  seen: number;
  /** Of those, guesses counted and not yet forgiven. */
  counted: number;
}

/** What one event adds to and takes back from its session's counted SASL guesses. */
export type AuthCounts = Pick<EventContext, "authFailures" | "authForgiven">;

/** An event that neither adds nor forgives a guess. */
export const NO_AUTH: AuthCounts = { authFailures: 0, authForgiven: 0 };

export class AuthSessions {
  private readonly sessions = new RecencyMap<Session>();

  constructor(private readonly maxSessions = DEFAULT_MAX_AUTH_SESSIONS) {}

  observe(event: PostfixEvent): AuthCounts {
    switch (event.kind) {
      case "connect":
        this.forget(sessionKey(event));
        return NO_AUTH;
      case "sasl_auth_failed": {
        const session = this.session(sessionKey(event));
        const guess = isPasswordGuess(event);
        session.seen += 1;
        if (guess) session.counted += 1;
        return { authFailures: guess ? 1 : 0, authForgiven: 0 };
      }
      case "too_many_errors":
        return event.stage.toUpperCase() === "AUTH" ? this.atLeast(sessionKey(event), 1, false) : NO_AUTH;
      case "client":
        return event.saslUsername ? this.succeeded(sessionKey(event)) : NO_AUTH;
      case "disconnect": {
        const auth = event.commands.auth;
        const key = sessionKey(event);
        if (auth === undefined) {
          this.forget(key);
          return NO_AUTH;
        }
        return this.atLeast(key, auth.total - auth.ok, true, auth.ok > 0);
      }
      default:
        return NO_AUTH;
    }
  }

  get size(): number {
    return this.sessions.size;
  }

  private atLeast(
    key: string | undefined,
    implied: number,
    sessionEnds: boolean,
    succeeded = false,
  ): AuthCounts {
    const session = this.session(key);
    const fresh = Math.max(0, implied - session.seen);
    session.seen += fresh;
    session.counted += fresh;
    const authForgiven = succeeded ? session.counted : 0;
    if (succeeded) session.counted = 0;
    if (sessionEnds) this.forget(key);
    return { authFailures: fresh, authForgiven };
  }

  private succeeded(key: string | undefined): AuthCounts {
    const session = key === undefined ? undefined : this.sessions.get(key);
    if (session === undefined || session.counted === 0) return NO_AUTH;
    const authForgiven = session.counted;
    session.counted = 0;
    return { authFailures: 0, authForgiven };
  }

  /** The event's session, most recently used last; a throwaway one when the event has no pid. */
  private session(key: string | undefined): Session {
    if (key === undefined) return { seen: 0, counted: 0 };
    const session = this.sessions.get(key) ?? { seen: 0, counted: 0 };
    this.sessions.touch(key, session);
    this.sessions.evictBeyond(this.maxSessions);
    return session;
  }

  private forget(key: string | undefined): void {
    if (key !== undefined) this.sessions.delete(key);
  }
}

/**
 * Without a pid lines cannot be tied to a session; they then count as they come. Built once per
 * event (a string to build and hash), and handed to what needs it.
 */
function sessionKey(event: PostfixEvent): string | undefined {
  return event.pid === null ? undefined : `${event.host}\u0000${event.instance ?? ""}\u0000${event.pid}`;
}
