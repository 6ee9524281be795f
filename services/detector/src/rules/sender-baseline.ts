/**
 * The hook of compromised_sender and local_sender_flood: a sender's mail in the window against
 * limits, its own baseline, and the evidence remote servers and the login history give.
 *
 * It fires on either of two grounds:
 * - **volume**: past an absolute limit (recipients, messages, distinct recipient domains or bounce
 *   ratio) AND past the sender's own baseline;
 * - **evidence**: sending abnormal for this sender (at least `evidenceRecipients` recipients or
 *   `evidenceDomains` domains, and `baselineFactor` times its busiest earlier period in both)
 *   corroborated by at least `minCorroboration` of: remote content rejections of its mail, mail
 *   from an address new to the user, mail from several networks at once, a high bounce ratio.
 *   A hundred spam mails from a fresh address are the common compromise; a newsletter at its usual
 *   volume, or a user mailing forty colleagues from their desk, corroborates nothing.
 *
 * The baseline is the busiest earlier window-length period, decaying with a half-life: a peak
 * and not an average, because office senders are bursty (400 recipients an hour by day, none at
 * night, averages to a third of their real hourly volume). A user with no history has a baseline
 * of 0: a brand-new busy sender alerts once on volume, then is learned.
 */
import { z } from "zod";
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { clientIpOf, loginNetwork } from "../engine/addresses.js";
import { DistinctSet } from "../engine/distinct-set.js";
import { defineExtension, type ExtensionState, type KeyMeasures } from "../engine/extension.js";
import { type EventContext, NUMERIC_FIELDS, textValues } from "../engine/fields.js";
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
  /** Evidence ground: sending counts as abnormal from this many recipients, or this many domains. */
  evidenceRecipients: z.int().positive().default(50),
  evidenceDomains: z.int().positive().default(20),
  /** Corroborating signals the evidence ground needs. */
  minCorroboration: z.int().positive().default(2),
  /** Remote content rejections (virus, spam, security issue, policy 5xx) that make a signal. */
  minContentRejections: z.int().positive().default(3),
  /** Client networks (/24, IPv6 /64) sending at once that make a signal. */
  severalNetworks: z.int().min(2).default(3),
  /** Bounce ratio that makes a signal (over `minRecipientsForRatio` recipients). */
  evidenceBounceRatio: z.number().positive().max(1).default(0.1),
};
type Params = z.infer<z.ZodObject<typeof params>>;

/** Distinct domains remembered per baseline period; past it the period counts as at least this many. */
const PERIOD_DOMAINS_CAP = 1000;
const NETWORKS_CAP = 64;

class SenderState implements ExtensionState {
  private recipients = NO_BUCKETS;
  private messages = NO_BUCKETS;
  private bounced = NO_BUCKETS;
  private deferred = NO_BUCKETS;
  private contentRejected = NO_BUCKETS;
  private fromNewAddress = NO_BUCKETS;
  private newAddresses: string[] = [];
  private readonly networks: DistinctSet;
  private periodStartMs = Number.NEGATIVE_INFINITY;
  private periodRecipients = 0;
  private periodDomains = new Set<string>();
  private baselinePeak = 0;
  private baselineDomains = 0;

  constructor(
    private readonly settings: Params,
    private readonly window: SlidingWindow,
  ) {
    this.networks = new DistinctSet(window.windowMs, NETWORKS_CAP);
  }

  observe(event: PostfixEvent, context: EventContext, atMs: number): void {
    this.rollPeriod(atMs);
    this.periodRecipients += NUMERIC_FIELDS.recipients(event);
    for (const domain of textValues("recipientDomain", event))
      if (this.periodDomains.size < PERIOD_DOMAINS_CAP) this.periodDomains.add(domain);
    const add = (buckets: readonly number[], weight: number) =>
      weight > 0 ? (this.window.add(buckets, atMs, weight) ?? buckets) : buckets;
    this.recipients = add(this.recipients, NUMERIC_FIELDS.recipients(event));
    this.messages = add(this.messages, 1);
    this.bounced = add(this.bounced, NUMERIC_FIELDS.bouncedRecipients(event));
    this.deferred = add(this.deferred, NUMERIC_FIELDS.deferredRecipients(event));
    this.contentRejected = add(this.contentRejected, NUMERIC_FIELDS.contentRejectedRecipients(event));
    const ip = clientIpOf(event);
    const network = ip === undefined ? undefined : loginNetwork(ip);
    if (network !== undefined) this.networks.add(network, atMs);
    if (context.login?.sentFromNewAddress && ip !== undefined) {
      this.fromNewAddress = add(this.fromNewAddress, 1);
      if (!this.newAddresses.includes(ip)) this.newAddresses = [ip, ...this.newAddresses].slice(0, 3);
    }
  }

  fires(measures: KeyMeasures): boolean {
    return this.pastLimit(measures) || this.corroborated(measures).length >= this.settings.minCorroboration;
  }

  facts(atMs: number) {
    return {
      messages: this.window.total(this.messages, atMs),
      bouncedRecipients: this.window.total(this.bounced, atMs),
      deferredRecipients: this.window.total(this.deferred, atMs),
      baselineRecipients: Math.round(this.baselinePeak),
      evidence: this.evidence(atMs),
    };
  }

  /** The volume ground: an absolute limit, past the baseline. */
  private pastLimit({ atMs, count: recipients, distinct: domains, threshold }: KeyMeasures): boolean {
    const s = this.settings;
    const bounced = this.window.total(this.bounced, atMs);
    const limit =
      recipients >= threshold ||
      domains >= s.maxRecipientDomains ||
      this.window.total(this.messages, atMs) >= s.maxMessages ||
      (recipients >= s.minRecipientsForRatio && bounced / recipients >= s.bounceRatio);
    return limit && recipients > s.baselineFactor * this.baselinePeak;
  }

  /** The evidence ground's signals, empty while the sending is not abnormal for this sender. */
  private corroborated({ atMs, count: recipients, distinct: domains }: KeyMeasures): string[] {
    const s = this.settings;
    const abnormal =
      (recipients >= s.evidenceRecipients || domains >= s.evidenceDomains) &&
      recipients > s.baselineFactor * this.baselinePeak &&
      domains > s.baselineFactor * this.baselineDomains;
    return abnormal ? this.signals(atMs, recipients) : [];
  }

  private signals(atMs: number, recipients: number): string[] {
    const s = this.settings;
    const signals: string[] = [];
    const content = this.window.total(this.contentRejected, atMs);
    if (content >= s.minContentRejections) signals.push(`${content} remote content rejections`);
    const fromNew = this.window.total(this.fromNewAddress, atMs);
    if (fromNew > 0)
      signals.push(`${fromNew} messages from an address new to the user (${this.newAddresses.join(", ")})`);
    const networks = this.networks.size(atMs);
    if (networks >= s.severalNetworks) signals.push(`sent from ${networks} networks at once`);
    const bounced = this.window.total(this.bounced, atMs);
    if (recipients >= s.minRecipientsForRatio && bounced / recipients >= s.evidenceBounceRatio)
      signals.push(
        `${bounced} of ${recipients} recipients bounced (${Math.round((100 * bounced) / recipients)}%)`,
      );
    return signals;
  }

  /** Why, signal by signal: the volume against the baseline, then each corroborating signal seen. */
  private evidence(atMs: number): string[] {
    const recipients = this.window.total(this.recipients, atMs);
    return [
      `${recipients} recipients against a busiest earlier period of ${Math.round(this.baselinePeak)} recipients and ${Math.round(this.baselineDomains)} domains`,
      ...this.signals(atMs, recipients),
    ];
  }

  /** Closes finished periods into the decaying peaks; the current period never counts as its own baseline. */
  private rollPeriod(atMs: number): void {
    const periodMs = this.window.windowMs;
    if (atMs < this.periodStartMs + periodMs) return;
    if (Number.isFinite(this.periodStartMs)) {
      const periods = Math.floor((atMs - this.periodStartMs) / periodMs);
      const decay = 0.5 ** ((periods * periodMs) / (this.settings.baselineHalfLifeHours * 3_600_000));
      this.baselinePeak = Math.max(this.baselinePeak * decay, this.periodRecipients);
      this.baselineDomains = Math.max(this.baselineDomains * decay, this.periodDomains.size);
    }
    this.periodStartMs = atMs;
    this.periodRecipients = 0;
    this.periodDomains = new Set();
  }
}

export const senderBaseline = defineExtension({
  name: "senderBaseline",
  params,
  factNames: ["messages", "bouncedRecipients", "deferredRecipients", "baselineRecipients", "evidence"],
  bind(settings, windowMs) {
    const window = new SlidingWindow(windowMs);
    return {
      newState: () => new SenderState(settings, window),
      // Long enough that a user sending once a week keeps their baseline.
      retentionMs: 2 * settings.baselineHalfLifeHours * 3_600_000,
    };
  },
});
