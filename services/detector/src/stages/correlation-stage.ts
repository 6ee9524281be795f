/**
 * The detector's first stage: everything that needs a mail server's lines in order. The Correlator
 * (sessions, queue IDs, message summaries), the per-session SASL bookkeeping (AuthSessions) and the
 * placing of each event in time (its own time, clamped to `maxAheadMs` past when it was seen). Its
 * output is facts (shared/src/contracts/facts.ts): each correlated event with what only this stage
 * knows, which is all the evaluation stage needs. One instance per event partition (by host).
 */

import { eventTimeMs } from "../../../../shared/src/contracts/event-time.js";
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import type { Fact } from "../../../../shared/src/contracts/facts.js";
import { Correlator, type CorrelatorOptions } from "../../../../shared/src/postfix/correlate.js";
import { AuthSessions } from "../engine/auth-sessions.js";
import { SeenClock } from "./seen-clock.js";

/** @default 60 s: how far ahead of its arrival a line's own time is believed. */
export const DEFAULT_MAX_AHEAD_MS = 60_000;

export interface CorrelationOptions {
  /** `summarizeAt` defaults to `first_pass` here: a message left queued by deferrals reaches the rules at once. */
  correlator?: Partial<CorrelatorOptions>;
  /** Event times later than seen time plus this are clamped to it (and counted). */
  maxAheadMs?: number;
  maxAuthSessions?: number;
}

export interface CorrelationStats {
  correlator: ReturnType<Correlator["stats"]>;
  /** Events dated more than `maxAheadMs` after they were seen, placed at that bound instead. */
  clampedEvents: number;
  /** Events whose `ts` did not parse: they cannot be placed in any window, so they make no fact. */
  eventsWithoutTime: number;
  trackedAuthSessions: number;
}

/** What a tick swept out: messages the correlator gave up waiting for, as events and as facts. */
export interface CorrelationOutput {
  events: PostfixEvent[];
  facts: Fact[];
}

export class CorrelationStage {
  private readonly correlator: Correlator;
  private readonly sessions: AuthSessions;
  private readonly maxAheadMs: number;
  private readonly clock = new SeenClock();
  private clampedEvents = 0;
  private eventsWithoutTime = 0;

  constructor(options: CorrelationOptions = {}) {
    this.correlator = new Correlator({ summarizeAt: "first_pass", ...options.correlator });
    this.sessions = new AuthSessions(options.maxAuthSessions);
    this.maxAheadMs = options.maxAheadMs ?? DEFAULT_MAX_AHEAD_MS;
  }

  /**
   * Correlates one event, appending its facts to `facts`; returns the correlator's output (the
   * event, perhaps enriched, and any message summaries it completed). `seenMs` is when the event
   * was received, `wallMs` the caller's clock as it processes it, `eventMs` `Date.parse(event.ts)`.
   */
  processInto(
    event: PostfixEvent,
    seenMs: number,
    wallMs: number,
    eventMs: number,
    facts: Fact[],
  ): PostfixEvent[] {
    this.clock.observe(seenMs, wallMs);
    const events = this.correlator.push(event, seenMs);
    // The first output is the input event (perhaps enriched), with its ts; summaries have their own.
    for (let i = 0; i < events.length; i++) {
      const output = events[i] as PostfixEvent;
      this.emit(output, this.placed(i === 0 ? eventMs : eventTimeMs(output.ts), seenMs), seenMs, facts);
    }
    return events;
  }

  /**
   * Moves time forward without an event: evicts stale correlation state at seen time (SeenClock).
   * Returns that time, for the rules to be advanced to, and what the sweep emitted.
   */
  tick(wallMs: number): (CorrelationOutput & { nowMs: number }) | undefined {
    const nowMs = this.clock.now(wallMs);
    if (nowMs === undefined) return undefined;
    const events = this.correlator.sweep(nowMs);
    const facts: Fact[] = [];
    for (const output of events) this.emit(output, this.placed(eventTimeMs(output.ts), nowMs), nowMs, facts);
    return { nowMs, events, facts };
  }

  /** End of a finite input (replay): every open message, summarized at its own time. */
  flush(): CorrelationOutput {
    const events = this.correlator.sweep(Number.POSITIVE_INFINITY);
    const facts: Fact[] = [];
    for (const output of events) {
      const atMs = eventTimeMs(output.ts);
      this.emit(output, atMs, atMs, facts);
    }
    return { events, facts };
  }

  stats(): CorrelationStats {
    return {
      correlator: this.correlator.stats(),
      clampedEvents: this.clampedEvents,
      eventsWithoutTime: this.eventsWithoutTime,
      trackedAuthSessions: this.sessions.size,
    };
  }

  private emit(event: PostfixEvent, atMs: number, seenMs: number, facts: Fact[]): void {
    if (Number.isNaN(atMs)) {
      this.eventsWithoutTime += 1;
      return;
    }
    // Sessions must see every event, whichever rules are enabled and wherever its keys are evaluated.
    const auth = this.sessions.observe(event);
    facts.push({ event, atMs, seenMs, authFailures: auth.authFailures, authForgiven: auth.authForgiven });
  }

  /** An event's time in the rule windows: its own, unless that is further ahead of `seenMs` than allowed. */
  private placed(eventMs: number, seenMs: number): number {
    const latestMs = seenMs + this.maxAheadMs;
    if (!(eventMs > latestMs)) return eventMs;
    this.clampedEvents += 1;
    return latestMs;
  }
}
