/**
 * A configured destination as a sink: what it accepts, how it batches and what one request carries.
 * Slack and Alertmanager take a batch in one request (a digest; a list of alerts); the generic
 * webhook takes one alert a request, with its identity as `Idempotency-Key` so that a receiver can
 * drop the copy a crash between its answer and our record of it would send again.
 */
import { type Alert, alertIdentity } from "../../../shared/src/contracts/alerts.js";
import type { Logger } from "../../../shared/src/runtime/log.js";
import { toAlertmanager } from "./alertmanager.js";
import { type Destination, routes } from "./destinations.js";
import { type PostOutcome, postJson } from "./http-sink.js";
import { signatureHeaders } from "./signature.js";
import { alertTitle, formatSlackBatch } from "./slack.js";

export interface Sink {
  /** The destination's name: a bounded metric label, the consumer's and the delivery records' key. */
  readonly name: string;
  /** grouped: one request carries a whole batch; each: one request per alert. */
  readonly grouping: "grouped" | "each";
  accepts(alert: Alert): boolean;
  /** `stop` aborts the request when the alerter stops. */
  send(alerts: readonly Alert[], stop?: AbortSignal): Promise<PostOutcome>;
}

export const IDEMPOTENCY_HEADER = "idempotency-key";

export function destinationSink(destination: Destination, timeoutMs: number, now: () => number): Sink {
  const accepts = (alert: Alert) => routes(destination, alert);
  const { name, url } = destination;
  switch (destination.type) {
    case "slack":
      return {
        name,
        grouping: "grouped",
        accepts,
        send: (alerts, stop) => postJson(url, formatSlackBatch(alerts), { timeoutMs, stop }),
      };
    case "alertmanager": {
      const endpoint = new URL("api/v2/alerts", url.endsWith("/") ? url : `${url}/`).href;
      return {
        name,
        grouping: "grouped",
        accepts,
        send: (alerts, stop) =>
          postJson(
            endpoint,
            alerts.map((alert) => toAlertmanager(alert, now(), destination.generatorUrl)),
            { timeoutMs, stop },
          ),
      };
    }
    case "webhook": {
      const { authorization, secret } = destination;
      // The generic webhook's body is exactly one alert (docs/contracts.md), so one request each.
      return {
        name,
        grouping: "each",
        accepts,
        send: ([alert], stop) => {
          if (!alert) return Promise.resolve({ type: "delivered", status: 0 });
          return postJson(url, alert, {
            timeoutMs,
            stop,
            headersFor: (body) => ({
              [IDEMPOTENCY_HEADER]: alertIdentity(alert),
              ...(authorization ? { authorization } : {}),
              ...(secret ? signatureHeaders(secret, body, now()) : {}),
            }),
          });
        },
      };
    }
  }
}

/** With no destination configured, alerts are written to the log, so they are never lost unseen. */
export const logSink = (logger: Logger): Sink => ({
  name: "log",
  grouping: "each",
  accepts: () => true,
  async send([alert]) {
    if (alert) logger.warn({ alert }, alertTitle(alert));
    return { type: "delivered", status: 0 };
  },
});
