/**
 * compromised_sender's hook: a SASL user's sending in the window must be past an absolute limit
 * (recipients, messages, distinct recipient domains or bounce ratio) AND past its own baseline.
 *
 * The baseline is the busiest earlier window-length period, decaying with a half-life: a peak
 * and not an average, because office senders are bursty (400 recipients an hour by day, none at
 * night, averages to a third of their real hourly volume). A user with no history has a baseline
 * of 0, so only the absolute limits apply: a brand-new busy sender alerts once, then is learned.
 */
import { z } from "zod";
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { defineExtension, type ExtensionState, type KeyMeasures } from "../engine/extension.js";
import { type EventContext, NUMERIC_FIELDS } from "../engine/fields.js";
import { NO_BUCKETS, SlidingWindow } from "../engine/sliding-window.js";

const params = {
  maxMessages: z.int().positive().default(150),
  /** Legitimate list mail reaches dozens of domains an hour; mass abuse reaches hundreds. */
  maxRecipientDomains: z.int().positive().default(100),
  bounceRatio: z.number().positive().max(1).default(0.3),
  /** Below this many recipients in the window a bounce ratio says nothing. */
  minRecipientsForRatio: z.int().positive().default(30),
  baselineFactor: z.number().min(1).default(3),
  baselineHalfLifeHours: z
    .number()
    .positive()
    .default(7 * 24),
};
type Params = z.infer<z.ZodObject<typeof params>>;

class SenderState implements ExtensionState {
  private messages = NO_BUCKETS;
  private bounced = NO_BUCKETS;
  private deferred = NO_BUCKETS;
  private periodStartMs = Number.NEGATIVE_INFINITY;
  private periodRecipients = 0;
  private baselinePeak = 0;

  constructor(
    private readonly settings: Params,
    private readonly window: SlidingWindow,
  ) {}

  observe(event: PostfixEvent, _context: EventContext, atMs: number): void {
    this.rollPeriod(atMs);
    this.periodRecipients += NUMERIC_FIELDS.recipients(event);
    this.messages = this.window.add(this.messages, atMs, 1) ?? this.messages;
    this.bounced =
      this.window.add(this.bounced, atMs, NUMERIC_FIELDS.bouncedRecipients(event)) ?? this.bounced;
    this.deferred =
      this.window.add(this.deferred, atMs, NUMERIC_FIELDS.deferredRecipients(event)) ?? this.deferred;
  }

  fires({ atMs, count: recipients, distinct: domains, threshold }: KeyMeasures): boolean {
    const s = this.settings;
    const bounced = this.window.total(this.bounced, atMs);
    const pastLimit =
      recipients >= threshold ||
      domains >= s.maxRecipientDomains ||
      this.window.total(this.messages, atMs) >= s.maxMessages ||
      (recipients >= s.minRecipientsForRatio && bounced / recipients >= s.bounceRatio);
    return pastLimit && recipients > s.baselineFactor * this.baselinePeak;
  }

  facts(atMs: number) {
    return {
      messages: this.window.total(this.messages, atMs),
      bouncedRecipients: this.window.total(this.bounced, atMs),
      deferredRecipients: this.window.total(this.deferred, atMs),
      baselineRecipients: Math.round(this.baselinePeak),
    };
  }

  /** Closes finished periods into the decaying peak; the current period never counts as its own baseline. */
  private rollPeriod(atMs: number): void {
    const periodMs = this.window.windowMs;
    if (atMs < this.periodStartMs + periodMs) return;
    if (Number.isFinite(this.periodStartMs)) {
      const periods = Math.floor((atMs - this.periodStartMs) / periodMs);
      const decay = 0.5 ** ((periods * periodMs) / (this.settings.baselineHalfLifeHours * 3_600_000));
      this.baselinePeak = Math.max(this.baselinePeak * decay, this.periodRecipients);
    }
    this.periodStartMs = atMs;
    this.periodRecipients = 0;
  }
}

export const senderBaseline = defineExtension({
  name: "senderBaseline",
  params,
  factNames: ["messages", "bouncedRecipients", "deferredRecipients", "baselineRecipients"],
  bind(settings, windowMs) {
    const window = new SlidingWindow(windowMs);
    return {
      newState: () => new SenderState(settings, window),
      // Long enough that a user sending once a week keeps their baseline.
      retentionMs: 2 * settings.baselineHalfLifeHours * 3_600_000,
    };
  },
});
