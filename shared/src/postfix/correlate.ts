import { eventTimeMs } from "../contracts/event-time.js";
import type { PostfixEvent } from "../contracts/events.js";
import {
  baseOf,
  type EventBase,
  firstPassLeftQueued,
  type MessageEvent,
  type MessageState,
  newMessageState,
  type Origin,
  recordLine,
  stripSummarized,
  summarize,
} from "./correlate-message.js";
import { RecencyMap } from "./correlate-recency.js";
import { flat } from "./flat.js";
import { SessionTracker } from "./session.js";

/**
 * When a message's summary is emitted. `removed`: at its end (removed, expired or evicted), the whole
 * story, for reports and traces. `first_pass`: also as soon as every recipient has had a delivery
 * attempt and some were deferred (greylisting, `421 4.7.0 ... unusual rate`), with `end: "first_pass"`
 * and those recipients `deferred`, rather than minutes or days later at its removal; for detection.
 * Either way a queue ID gets one summary.
 */
export type SummarizeAt = "removed" | "first_pass";

export interface CorrelatorOptions {
  /** @default "removed" */
  summarizeAt: SummarizeAt;
  /**
   * Messages held at once, first-pass stubs included; past it the least recently updated is emitted
   * as `evicted` (a stub is dropped: its summary went out). @default 100_000
   */
  maxMessages: number;
  /** A message with no line for this long is emitted as `evicted`. @default 432_000 (5 d, Postfix's maximal_queue_lifetime) */
  maxMessageAgeSeconds: number;
  /**
   * A content filter's `queued as NEWID` waits this long for NEWID's first line. The re-injected
   * message is logged within seconds of the reply, and remote MTAs answer `queued as` too with IDs
   * that never show up here, so holding them for long only costs memory. @default 300
   */
  maxHandOffAgeSeconds: number;
  /** Hand-offs waiting at once; past it the oldest is dropped. @default 10_000 */
  maxHandOffs: number;
  /**
   * How long the summary of a message from a loopback client, ended with no hand-off naming it yet,
   * waits for one: a re-injected message can be delivered and removed before the filter's `250 ...
   * queued as NEWID` reply is logged for the original (seen on a real Postfix with a fast local
   * delivery). Held summaries count toward maxHandOffs. @default 10
   */
  handOffGraceSeconds: number;
  /** smtpd sessions held at once. @default 10_000 */
  maxSessions: number;
  /** A session with no line for this long lost its disconnect. @default 3_600 */
  maxSessionAgeSeconds: number;
}

export const DEFAULT_CORRELATOR_OPTIONS: CorrelatorOptions = {
  summarizeAt: "removed",
  maxMessages: 100_000,
  maxMessageAgeSeconds: 5 * 24 * 3600,
  maxHandOffAgeSeconds: 300,
  maxHandOffs: 10_000,
  handOffGraceSeconds: 10,
  maxSessions: 10_000,
  maxSessionAgeSeconds: 3600,
};

export interface CorrelatorStats {
  /** Queue IDs held, including the stubs of messages summarized at first pass. */
  messages: number;
  sessions: number;
  evictedMessages: number;
  evictedSessions: number;
}

/** Lines that open or extend a message's story; any other kind never creates state. */
const STORY_KINDS = new Set<PostfixEvent["kind"]>([
  "client",
  "pickup",
  "message_id",
  "queued",
  "delivery",
  "bounce_notice",
  "expired",
]);

const MESSAGE_ENDING_ACTIONS = new Set(["reject", "milter-reject", "discard", "milter-discard"]);

/** A possibly re-injected message that ended before any hand-off named it (handOffGraceSeconds). */
interface HeldEnd {
  state: MessageState;
  /** The ending line's base fields, which stamp its summary. */
  base: EventBase;
  releaseAtMs: number;
}

/** A content filter's `queued as NEWID` seen before NEWID's own lines: its submitter, waiting. */
interface PendingHandOff {
  origin: Origin;
  /** The queue ID that was handed off. */
  fromQueueId: string;
  lastSeenMs: number;
}

/**
 * Links a message's lines (client= → message-id → qmgr → deliveries → bounce → removed) into one
 * `message` summary per queue ID and host (at its end, or after its first pass: see SummarizeAt), and
 * enriches smtpd lines from their session.
 *
 * Pure: time is the events' own `ts`, and the caller decides when to `sweep`, so live and replay
 * give the same output. `sweep(Number.POSITIVE_INFINITY)` flushes every open message at the end of
 * a batch.
 */
export class Correlator {
  readonly #options: CorrelatorOptions;
  readonly #firstPass: boolean;
  readonly #messages = new RecencyMap<MessageState>();
  readonly #pendingHandOffs = new RecencyMap<PendingHandOff>();
  readonly #heldEnds = new RecencyMap<HeldEnd>();
  readonly #sessions: SessionTracker;
  #evictedMessages = 0;
  #primaryHost: string | undefined;
  /** Stands in for an unparseable `ts`, so one bad line cannot make its message look ancient. */
  #latestMs = 0;

  constructor(options: Partial<CorrelatorOptions> = {}) {
    this.#options = { ...DEFAULT_CORRELATOR_OPTIONS, ...options };
    this.#firstPass = this.#options.summarizeAt === "first_pass";
    this.#sessions = new SessionTracker(this.#options.maxSessions, this.#options.maxSessionAgeSeconds);
  }

  /**
   * Returns the event (enriched from its session when possible), then any message summaries it
   * completed. `eventMs` is `Date.parse(event.ts)`, for callers that have it already.
   */
  push(event: PostfixEvent, eventMs?: number): PostfixEvent[] {
    const parsedMs = eventMs ?? eventTimeMs(event.ts);
    const atMs = Number.isNaN(parsedMs) ? this.#latestMs : parsedMs;
    this.#latestMs = Math.max(this.#latestMs, atMs);

    const enriched = this.#sessions.enrich(event, atMs);
    const output: PostfixEvent[] = [enriched];
    if (this.#heldEnds.size > 0) this.#releaseHeldEnds(atMs, output);
    const queueId = enriched.queueId;
    if (queueId === undefined || queueId === "NOQUEUE" || enriched.kind === "message") return output;
    this.#follow(enriched, queueId, atMs, output);
    return output;
  }

  /** Emits messages idle for longer than maxMessageAgeSeconds as `evicted`; forgets idle sessions. */
  sweep(nowMs: number): PostfixEvent[] {
    this.#sessions.sweep(nowMs);
    const cutoffMs = nowMs - this.#options.maxMessageAgeSeconds * 1000;
    this.#expireHandOffs(nowMs);
    const output: PostfixEvent[] = [];
    this.#releaseHeldEnds(nowMs, output);
    for (const summary of this.#evict(this.#messages.evictWhile((state) => state.lastSeenMs < cutoffMs)))
      output.push(summary);
    return output;
  }

  /** Hand-offs waiting for their new queue ID's first line (not in stats(): its shape is a metrics contract). */
  get pendingHandOffs(): number {
    return this.#pendingHandOffs.size;
  }

  /**
   * The queue ID whose hand-off the message `queueId` on `host` continues or will continue: the open
   * message's `forwardedFrom`, else a parked hand-off's source. Undefined when neither is held, so
   * no summary yet to come can name a source (readers such as ReportBuilder decide with it when to
   * stop waiting). Reads only: recency order is untouched.
   */
  handOffSource(host: string, queueId: string): string | undefined {
    const key = this.#key(host, queueId);
    return this.#messages.get(key)?.forwardedFrom ?? this.#pendingHandOffs.get(key)?.fromQueueId;
  }

  /** Whether the message `queueId` on `host` is open (its summary is still to come). Reads only. */
  isOpen(host: string, queueId: string): boolean {
    const key = this.#key(host, queueId);
    const state = this.#messages.get(key);
    return (state !== undefined && !state.summarized) || this.#heldEnds.get(key) !== undefined;
  }

  stats(): CorrelatorStats {
    return {
      messages: this.#messages.size + this.#heldEnds.size,
      sessions: this.#sessions.size,
      evictedMessages: this.#evictedMessages,
      evictedSessions: this.#sessions.evicted,
    };
  }

  /**
   * Appends the message summaries the event completed to `output`. A message summarized at its first
   * pass stays held as a stub until its end: its later lines and `removed` add nothing, but its
   * hand-offs and bounce notifications still link (their messages have summaries to come).
   */
  #follow(event: PostfixEvent, queueId: string, atMs: number, output: PostfixEvent[]): void {
    const key = this.#key(event.host, queueId);
    if (endsMessage(event)) {
      const state = this.#messages.get(key);
      if (!state) return;
      this.#messages.delete(key);
      if (state.summarized) return;
      if (mayBeReinjected(state)) {
        const releaseAtMs = atMs + this.#options.handOffGraceSeconds * 1000;
        this.#heldEnds.touch(key, { state, base: baseOf(event), releaseAtMs });
        this.#releaseHeldEnds(atMs, output);
      } else output.push(summarize(state, baseOf(event), "removed"));
      return;
    }
    if (!STORY_KINDS.has(event.kind)) return;

    const state = this.#stateFor(event, queueId, key, atMs);
    if (!state.summarized) recordLine(state, event);
    if (event.kind === "bounce_notice") {
      const bounceKey = this.#key(event.host, event.bounceQueueId);
      this.#stateFor(event, event.bounceQueueId, bounceKey, atMs).bounceOf = queueId;
    }
    if (event.kind === "delivery") {
      if (event.forwardedQueueId !== undefined) this.#handOff(state, event.forwardedQueueId, atMs, output);
      if (this.#firstPass && !state.summarized && firstPassLeftQueued(state)) {
        output.push(summarize(state, baseOf(event), "first_pass"));
        stripSummarized(state);
      }
    }
    const evicted = this.#messages.evictBeyond(this.#options.maxMessages);
    if (evicted.length > 0) for (const summary of this.#evict(evicted)) output.push(summary);
  }

  /**
   * The state key of a queue ID: the ID itself on the first host seen (most logs have one), host and
   * ID on any other. IDs never contain NUL, so the two cannot collide; building and hashing a joined
   * key for every line was a tenth of the Correlator's time.
   */
  #key(host: string, queueId: string): string {
    this.#primaryHost ??= flat(host);
    return host === this.#primaryHost ? queueId : `${host}\0${queueId}`;
  }

  /** Returns the queue ID's state, created if new, as the most recently updated message. */
  #stateFor(event: PostfixEvent, queueId: string, key: string, atMs: number): MessageState {
    let state = this.#messages.get(key);
    if (state) {
      state.lastSeenMs = atMs;
      state.last = baseOf(event);
    } else {
      state = newMessageState(event, queueId, atMs);
      const handOff = this.#pendingHandOffs.get(key);
      if (handOff) {
        this.#pendingHandOffs.delete(key);
        inheritOrigin(state, handOff.origin, handOff.fromQueueId);
        const source = this.#messages.get(this.#key(event.host, handOff.fromQueueId));
        if (source) markHandedOff(source, queueId);
      }
    }
    this.#messages.touch(key, state);
    return state;
  }

  /**
   * The re-injected message usually logs its own (loopback) client= before the filter's 250 reply is
   * logged for the original, so the link is applied to existing state, or parked until the new ID
   * shows up. Parking instead of creating state matters: remote MTAs answer `queued as` too, and
   * their IDs never appear here, so a parked hand-off only waits maxHandOffAgeSeconds (a relay
   * address cannot tell them apart: a filter may run on another host and re-inject here).
   */
  #handOff(source: MessageState, newQueueId: string, atMs: number, output: PostfixEvent[]): void {
    const key = this.#key(source.host, newQueueId);
    const target = this.#messages.get(key);
    if (target) {
      inheritOrigin(target, source.origin, source.queueId);
      markHandedOff(source, newQueueId);
      return;
    }
    const held = this.#heldEnds.get(key);
    if (held) {
      this.#heldEnds.delete(key);
      inheritOrigin(held.state, source.origin, source.queueId);
      markHandedOff(source, newQueueId);
      output.push(summarize(held.state, held.base, "removed"));
      return;
    }
    this.#pendingHandOffs.touch(key, {
      origin: source.origin,
      fromQueueId: source.queueId,
      lastSeenMs: atMs,
    });
    this.#expireHandOffs(atMs);
  }

  /** Drops hand-offs older than maxHandOffAgeSeconds, then the oldest past maxHandOffs; O(dropped). */
  #expireHandOffs(nowMs: number): void {
    const cutoffMs = nowMs - this.#options.maxHandOffAgeSeconds * 1000;
    const pending = this.#pendingHandOffs;
    const limit = this.#options.maxHandOffs;
    pending.evictWhile((handOff) => handOff.lastSeenMs < cutoffMs || pending.size > limit);
  }

  /** Emits the held summaries whose grace is over, and the oldest past maxHandOffs. */
  #releaseHeldEnds(nowMs: number, output: PostfixEvent[]): void {
    const limit = this.#options.maxHandOffs;
    const held = this.#heldEnds;
    for (const { state, base } of held.evictWhile((end) => end.releaseAtMs <= nowMs || held.size > limit))
      output.push(summarize(state, base, "removed"));
  }

  /** Counts every message dropped before its end; a stub's summary went out already. */
  #evict(states: readonly MessageState[]): MessageEvent[] {
    this.#evictedMessages += states.length;
    const summaries: MessageEvent[] = [];
    for (const state of states)
      if (!state.summarized) summaries.push(summarize(state, state.last, "evicted"));
    return summaries;
  }
}

/**
 * Whether a message that just ended could be a content filter's re-injection whose hand-off line is
 * still to come: it came from a loopback client without logging in, and no hand-off named it yet.
 */
function mayBeReinjected(state: MessageState): boolean {
  const { client, saslUsername } = state.origin;
  return (
    state.forwardedFrom === undefined &&
    saslUsername === undefined &&
    client !== undefined &&
    isLoopback(client.ip)
  );
}

function isLoopback(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1" || ip.startsWith("::ffff:127.");
}

/** The new queue ID exists on this server: the recipients sent to it went through a content filter. */
function markHandedOff(source: MessageState, newQueueId: string): void {
  for (const recipient of source.recipients.values())
    if (recipient.forwardedQueueId === newQueueId) recipient.handedOff = true;
}

function inheritOrigin(state: MessageState, origin: Origin, fromQueueId: string): void {
  state.origin = { ...origin };
  state.originInherited = true;
  state.forwardedFrom = fromQueueId;
}

/**
 * `removed` ends every queue file qmgr saw. A whole-message reject or discard in cleanup (header/body
 * checks, milters at end of DATA) deletes the file before qmgr ever logs it, so it ends the story too.
 */
function endsMessage(event: PostfixEvent): boolean {
  if (event.kind === "removed") return true;
  if (event.kind !== "reject") return false;
  const wholeMessage = event.daemon === "cleanup" || event.stage === "END-OF-MESSAGE";
  return wholeMessage && MESSAGE_ENDING_ACTIONS.has(event.action);
}
