/**
 * pflogsumm's "Grand Totals" block, counted the way pflogsumm 1.1.5 (Debian 12's, read from
 * /usr/sbin/pflogsumm) counts them, so `postwatch report` and pflogsumm can be compared on the same
 * log:
 *
 * - received: one per smtpd `QID: client=` line plus one per pickup `uid=`/`sender=` line. A message
 *   a content filter re-injects through smtpd is received twice, as pflogsumm counts it.
 * - bytes received, senders: from the first qmgr `from=<>, size=` line of a queue ID that was
 *   received; senders are distinct addresses with the domain lower-cased, `<>` counted as `from=<>`.
 * - delivered: `status=sent` delivery lines (one per recipient) whose reply does not say
 *   `forwarded as` (those, local alias forwards, are `forwarded`); bytes delivered adds the queue
 *   ID's size per delivered recipient; recipients are distinct delivered addresses, domain
 *   lower-cased.
 * - deferred: distinct queue IDs with a `status=deferred` line; deferrals: those lines.
 * - bounced: `status=bounced` lines (expired and undeliverable are not counted).
 * - rejected / reject warnings / held / discarded: smtpd and postscreen `reject:`,
 *   `reject_warning:`, `hold:`, `discard:` lines (1.1.5's branch is `$cmd eq 'smtpd' || $cmd eq
 *   'postscreen'`, so postscreen's `NOQUEUE: reject:` counts), and cleanup header/body/
 *   END-OF-MESSAGE `reject:`, `milter-reject:` (1.1.5's pattern is `(?:milter-)?reject`),
 *   `warning:`, `hold:`, `discard:` lines. 1.1.3 counted neither postscreen's rejects nor
 *   `milter-reject`. An smtpd `milter-reject:` is not counted by either.
 * - percent rejected = rejected / (delivered + rejected + discarded), truncated; same for discarded.
 *
 * Queue IDs are keyed per host, where pflogsumm assumes one host per log.
 */
import type { PostfixEvent } from "../contracts/events.js";

export interface Totals {
  received: number;
  delivered: number;
  forwarded: number;
  deferred: number;
  deferrals: number;
  bounced: number;
  rejected: number;
  rejectedPercent: number;
  rejectWarnings: number;
  held: number;
  discarded: number;
  discardedPercent: number;
  bytesReceived: number;
  bytesDelivered: number;
  senders: number;
  recipients: number;
  recipientDomains: number;
}

type RejectTally = "rejected" | "rejectWarnings" | "held" | "discarded";

const TALLY_OF_ACTION: Record<string, RejectTally> = {
  reject: "rejected",
  reject_warning: "rejectWarnings",
  warning: "rejectWarnings",
  hold: "held",
  discard: "discarded",
};

/** The daemons whose reject lines pflogsumm 1.1.5 counts. */
const REJECTING_DAEMONS: ReadonlySet<string> = new Set(["smtpd", "postscreen", "cleanup"]);

function rejectTally(daemon: string, action: string): RejectTally | undefined {
  if (!REJECTING_DAEMONS.has(daemon)) return undefined;
  if (action === "milter-reject") return daemon === "cleanup" ? "rejected" : undefined;
  return TALLY_OF_ACTION[action];
}

export class TotalsCounter {
  readonly #counts = {
    received: 0,
    delivered: 0,
    forwarded: 0,
    deferrals: 0,
    bounced: 0,
    rejected: 0,
    rejectWarnings: 0,
    held: 0,
    discarded: 0,
    bytesReceived: 0,
    bytesDelivered: 0,
  };
  /** Received queue IDs still waiting for their qmgr size line. */
  readonly #awaitingSize = new Set<string>();
  readonly #sizes = new Map<string, number>();
  readonly #deferredIds = new Set<string>();
  readonly #senders = new Set<string>();
  readonly #recipients = new Set<string>();
  readonly #recipientDomains = new Set<string>();

  add(event: PostfixEvent): void {
    const key = event.queueId === undefined ? undefined : `${event.host}\0${event.queueId}`;
    switch (event.kind) {
      case "client":
      case "pickup":
        this.#counts.received++;
        if (key !== undefined) this.#awaitingSize.add(key);
        return;
      case "queued":
        if (key === undefined || this.#sizes.has(key)) return;
        this.#sizes.set(key, event.size);
        if (this.#awaitingSize.delete(key)) {
          this.#senders.add(event.from === "" ? "from=<>" : lowerCaseDomain(event.from));
          this.#counts.bytesReceived += event.size;
        }
        return;
      case "delivery":
        this.#addDelivery(event, key);
        return;
      case "reject": {
        const tally = rejectTally(event.daemon, event.action);
        if (tally !== undefined) this.#counts[tally]++;
        return;
      }
    }
  }

  totals(): Totals {
    const { delivered, rejected, discarded } = this.#counts;
    const percentOfTraffic = (count: number) => {
      const traffic = delivered + rejected + discarded;
      return traffic === 0 ? 0 : Math.trunc((count / traffic) * 100);
    };
    return {
      ...this.#counts,
      deferred: this.#deferredIds.size,
      rejectedPercent: percentOfTraffic(rejected),
      discardedPercent: percentOfTraffic(discarded),
      senders: this.#senders.size,
      recipients: this.#recipients.size,
      recipientDomains: this.#recipientDomains.size,
    };
  }

  #addDelivery(event: Extract<PostfixEvent, { kind: "delivery" }>, key: string | undefined): void {
    switch (event.status) {
      case "sent": {
        if (event.response.includes("forwarded as ")) {
          this.#counts.forwarded++;
          return;
        }
        const recipient = lowerCaseDomain(event.to);
        this.#counts.delivered++;
        this.#counts.bytesDelivered += key === undefined ? 0 : (this.#sizes.get(key) ?? 0);
        this.#recipients.add(recipient);
        this.#recipientDomains.add(domainOf(recipient));
        return;
      }
      case "deferred":
        this.#counts.deferrals++;
        if (key !== undefined) this.#deferredIds.add(key);
        return;
      case "bounced":
        this.#counts.bounced++;
        return;
    }
  }
}

/** pflogsumm folds case in the domain part only: local parts may be case-sensitive. */
export function lowerCaseDomain(address: string): string {
  const at = address.indexOf("@");
  return at === -1 ? address : address.slice(0, at) + address.slice(at).toLowerCase();
}

/** The part after the first `@`, as pflogsumm takes it; the whole address when there is none. */
export function domainOf(address: string): string {
  const at = address.indexOf("@");
  return at === -1 ? address : address.slice(at + 1);
}
