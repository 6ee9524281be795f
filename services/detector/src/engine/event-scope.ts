/**
 * The event the engine is evaluating, as every rule reads it: the event, its times, its context
 * (EventContext) and its text fields. A field is worked out once per event however many rules and
 * keys read it: an address's /24 or /64 cost a regex and a string per rule before, and one event
 * reaches up to a dozen rule keys. The engine keeps one scope and points it at each event in turn,
 * so a scope, and what it hands out, is only the current event's until the next `reset`.
 */
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import type { AuthCounts } from "./auth-sessions.js";
import { type EventContext, type LoginFacts, TEXT_FIELDS, type TextField, textValues } from "./fields.js";

/** Each text field's place in a scope's memo. */
const FIELD_INDEX = new Map(Object.keys(TEXT_FIELDS).map((field, index) => [field as TextField, index]));

export class EventScope implements EventContext {
  event!: PostfixEvent;
  /** Where the event sits in the windows (its own time, clamped: see DetectionPipeline). */
  atMs = 0;
  /** When it was received: the clock idleness and quiet periods run on. */
  seenMs = 0;
  authFailures = 0;
  authForgiven = 0;
  login: LoginFacts | undefined;
  private readonly memo: (readonly string[] | undefined)[] = new Array(FIELD_INDEX.size).fill(undefined);
  /** Memo entries filled for the current event, the only ones `reset` has to clear. */
  private readonly filled: number[] = [];

  reset(
    event: PostfixEvent,
    auth: AuthCounts,
    login: LoginFacts | undefined,
    atMs: number,
    seenMs: number,
  ): this {
    // Emptied by pop: truncating with `length = 0` is a runtime call, dearer than the whole memo.
    for (let index = this.filled.pop(); index !== undefined; index = this.filled.pop())
      this.memo[index] = undefined;
    this.event = event;
    this.atMs = atMs;
    this.seenMs = seenMs;
    this.authFailures = auth.authFailures;
    this.authForgiven = auth.authForgiven;
    this.login = login;
    return this;
  }

  /** textValues(field, event, this), computed on first use. */
  values(field: TextField): readonly string[] {
    const index = FIELD_INDEX.get(field) as number;
    let values = this.memo[index];
    if (values === undefined) {
      values = textValues(field, this.event, this);
      this.memo[index] = values;
      this.filled.push(index);
    }
    return values;
  }
}
