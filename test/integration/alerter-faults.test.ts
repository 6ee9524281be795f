/**
 * The alerter alone against misbehaving Slack and webhook endpoints. Alerts are published straight
 * to JetStream as the detector does (`postwatch.alerts.<rule>`, alertIdentity as message ID); each
 * case uses its own fingerprint, and the endpoint's answers are scripted per fingerprint.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { jetstream } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { loadAlerterConfig } from "../../services/alerter/src/config.js";
import { runOne } from "../../services/cli/src/online.js";
import { Alert, alertIdentity } from "../../shared/src/contracts/alerts.js";
import { alertSubject } from "../../shared/src/contracts/subjects.js";
import type { RunningServices } from "../../shared/src/runtime/service.js";
import { sample, scrape, waitForMetrics } from "../helpers/metrics.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import {
  type Answer,
  type ScriptedHttpServer,
  type ScriptedRequest,
  startScriptedHttpServer,
} from "../helpers/scripted-http.js";
import { spawnService } from "../helpers/service-process.js";

const SLACK_PATH = "/services/T0SLACKTEAM/B0SLACKHOOK/slacksecrettoken0123456789";
const HOOK_PATH = "/hooks/hooksecrettoken9876543210";

function makeAlert(fingerprint: string, overrides: Partial<Alert> = {}): Alert {
  return Alert.parse({
    v: 1,
    fingerprint,
    rule: "sasl_bruteforce",
    state: "firing",
    severity: "warning",
    key: { type: "client_ip", value: "198.51.100.77" },
    summary: `test alert ${fingerprint}`,
    remediation: "Block the address.",
    startsAt: "2026-02-23T11:57:45.000Z",
    count: 5,
    threshold: 5,
    windowSeconds: 600,
    hosts: ["mx1"],
    related: { clientIps: [], saslUsers: ["admin@example.com"] },
    facts: { mechanisms: ["PLAIN"] },
    samples: ["warning: unknown[198.51.100.77]: SASL PLAIN authentication failed: "],
    ...overrides,
  });
}

/** Which alert a recorded POST carries: the webhook gets the alert, Slack a message naming the fingerprint. */
const carries = (fingerprint: string) => (request: { text: string }) => request.text.includes(fingerprint);
const isSlack = (request: { path: string }) => request.path === SLACK_PATH;
const isHook = (request: { path: string }) => request.path === HOOK_PATH;

describe("alerter against failing sinks", () => {
  let nats: TestNats;
  let http: ScriptedHttpServer;
  let client: NatsConnection;
  let alerter: RunningServices;
  /** Scripted answers per fingerprint and sink; 200 when none is left. */
  const scripts = new Map<string, Answer[]>();
  const script = (fingerprint: string, sink: "slack" | "hook", answers: Answer[]) =>
    scripts.set(`${fingerprint}|${sink}`, answers);

  const env = () => ({
    ...nats.env,
    SLACK_WEBHOOK_URL: `${http.url}${SLACK_PATH}`,
    WEBHOOK_URL: `${http.url}${HOOK_PATH}`,
    ALERTER_RETRY_BASE_MS: "50",
    ALERTER_RETRY_MAX_MS: "2000",
    WEBHOOK_TIMEOUT_MS: "2000",
    // Slack groups for a moment only, so that one case's alert never shares a digest with the next
    // case's: the webhook, which does not wait, lets a case end before a 1 s grouping would.
    ALERTER_GROUP_WAIT_MS: "50",
    METRICS_HOST: "127.0.0.1",
    METRICS_PORT: "0",
  });

  before(async () => {
    nats = await startTestNats();
    http = await startScriptedHttpServer();
    http.respond((request) => {
      const fingerprint = [...scripts.keys()]
        .map((key) => key.split("|")[0] as string)
        .find((fp) => request.text.includes(fp));
      const sink = request.path === SLACK_PATH ? "slack" : "hook";
      return scripts.get(`${fingerprint}|${sink}`)?.shift() ?? { status: 200 };
    });
    client = await connect({ servers: nats.url });
    alerter = await runOne("alerter", { ...env(), LOG_LEVEL: "silent" });
  });

  after(async () => {
    await alerter?.stop();
    await client?.close();
    await http?.close();
    await nats?.[Symbol.asyncDispose]();
  });

  const publish = async (alert: Alert, msgID = alertIdentity(alert)) => {
    await jetstream(client).publish(alertSubject(alert.rule), JSON.stringify(alert), { msgID });
  };
  const delivered = (requests: ScriptedRequest[]) =>
    requests.filter((r) => r.answer.status === 200 && !r.answer.drop);
  const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it("(a) retries a webhook answering 500 twice, then delivers exactly once", async () => {
    const alert = makeAlert("fp-a-500-500-200");
    script(alert.fingerprint, "hook", [{ status: 500 }, { status: 500 }]);
    await publish(alert);
    const hook = await http.waitFor(
      (r) => isHook(r) && carries(alert.fingerprint)(r),
      (r) => delivered(r).length > 0,
      5000,
      "the webhook delivery",
    );
    assert.deepEqual(
      hook.map((r) => r.answer.status),
      [500, 500, 200],
    );
    assert.equal((hook[2]?.body as Alert | undefined)?.fingerprint, alert.fingerprint);
    // Slack waits ALERTER_GROUP_WAIT_MS for more alerts to group; the webhook does not.
    await http.waitFor(
      (r) => isSlack(r) && carries(alert.fingerprint)(r),
      (r) => r.length > 0,
      5000,
      "Slack's copy",
    );
    await settle(400);
    const all = http.requests.filter(carries(alert.fingerprint));
    assert.equal(delivered(all.filter(isHook)).length, 1, "webhook delivered once");
    assert.equal(all.filter(isSlack).length, 1, "Slack accepted on the first try and was not posted again");
  });

  it("(b) honours Slack's 429 Retry-After before retrying", async () => {
    const alert = makeAlert("fp-b-429-retry-after");
    script(alert.fingerprint, "slack", [{ status: 429, headers: { "retry-after": "1" } }]);
    await publish(alert);
    const slack = await http.waitFor(
      (r) => isSlack(r) && carries(alert.fingerprint)(r),
      (r) => delivered(r).length > 0,
      5000,
      "the Slack delivery after Retry-After",
    );
    assert.deepEqual(
      slack.map((r) => r.answer.status),
      [429, 200],
    );
    const gap = (slack[1]?.at ?? 0) - (slack[0]?.at ?? 0);
    assert.ok(gap >= 950, `retried after ${gap} ms, before Retry-After: 1 s had passed`);
    assert.ok(gap < 3000, `retried only after ${gap} ms`);
  });

  it("(c) gives up on a 400 at once and counts it as failed", async () => {
    const failed = { sink: "webhook", outcome: "failed" };
    const before = sample(await scrape(alerter.metricsPort), "postwatch_alerter_alerts_total", failed);
    const alert = makeAlert("fp-c-400-permanent");
    script(alert.fingerprint, "hook", [{ status: 400 }, { status: 400 }, { status: 400 }]);
    await publish(alert);
    await waitForMetrics(
      alerter.metricsPort,
      (text) => sample(text, "postwatch_alerter_alerts_total", failed) === before + 1,
      5000,
      'postwatch_alerter_alerts_total{outcome="failed"} to count the alert',
    );
    await settle(500);
    const hook = http.requests.filter((r) => isHook(r) && carries(alert.fingerprint)(r));
    assert.equal(hook.length, 1, "a 400 is not retried");
    const metrics = await scrape(alerter.metricsPort);
    assert.equal(sample(metrics, "postwatch_alerter_alerts_total", failed), before + 1);
    assert.ok(
      sample(metrics, "postwatch_alerter_sink_requests_total", { sink: "webhook", result: "permanent" }) >= 1,
    );
  });

  it("(d) delivers an alert published twice under different message IDs once", async () => {
    const duplicates = (text: string) =>
      ["slack", "webhook"].map((sink) =>
        sample(text, "postwatch_alerter_alerts_total", { sink, outcome: "duplicate" }),
      );
    const [slackBefore, hookBefore] = duplicates(await scrape(alerter.metricsPort));
    const alert = makeAlert("fp-d-published-twice");
    await publish(alert, `${alertIdentity(alert)}#1`);
    await publish(alert, `${alertIdentity(alert)}#2`);
    await waitForMetrics(
      alerter.metricsPort,
      (text) => {
        const [slack, hook] = duplicates(text);
        return slack === (slackBefore ?? 0) + 1 && hook === (hookBefore ?? 0) + 1;
      },
      5000,
      "each destination to count the second copy as a duplicate",
    );
    await settle(200);
    const all = http.requests.filter(carries(alert.fingerprint));
    assert.equal(all.filter(isHook).length, 1);
    assert.equal(all.filter(isSlack).length, 1);
  });

  it("(e) does not post to Slack again when only the webhook needs a retry", async () => {
    const alert = makeAlert("fp-e-slack-ok-hook-fails");
    script(alert.fingerprint, "hook", [{ status: 503 }, { status: 0, drop: true }]);
    await publish(alert);
    const hook = await http.waitFor(
      (r) => isHook(r) && carries(alert.fingerprint)(r),
      (r) => delivered(r).length > 0,
      5000,
      "the webhook delivery on the third try",
    );
    assert.equal(hook.length, 3);
    await http.waitFor(
      (r) => isSlack(r) && carries(alert.fingerprint)(r),
      (r) => r.length > 0,
      5000,
      "Slack's copy",
    );
    await settle(300);
    const slack = http.requests.filter((r) => isSlack(r) && carries(alert.fingerprint)(r));
    assert.equal(slack.length, 1, "Slack already had it; a webhook retry must not post it again");
  });

  it("(f) never writes a webhook URL to its log, whatever happens to a delivery", async () => {
    // One alert per Slack request, so each scripted answer reaches its own alert (no digest).
    const child = spawnService("alerter", { ...env(), LOG_LEVEL: "trace", ALERTER_GROUP_MAX: "1" });
    try {
      await child.running();
      const deadline = Date.now() + 10_000;
      // The in-process alerter shares the durable consumer; stop it so the child handles these.
      await alerter.stop();
      const cases = [
        makeAlert("fp-f-delivered"),
        makeAlert("fp-f-retried"),
        makeAlert("fp-f-dropped-connection"),
        makeAlert("fp-f-permanent"),
      ];
      script("fp-f-retried", "slack", [{ status: 500 }, { status: 429, headers: { "retry-after": "0" } }]);
      script("fp-f-dropped-connection", "hook", [{ status: 0, drop: true }]);
      script("fp-f-permanent", "slack", [{ status: 404 }]);
      for (const alert of cases) await publish(alert);
      await http.waitFor(
        (r) => isHook(r) && cases.some((a) => carries(a.fingerprint)(r)),
        (r) => delivered(r).length >= 3,
        8000,
        "three of the four alerts delivered to the webhook",
      );
      while (!child.log().includes("alert delivery given up")) {
        assert.ok(Date.now() < deadline + 5000, `no "given up" line: ${child.log()}`);
        await settle(25);
      }
      const log = child.log();
      assert.match(log, /alert delivery failed; will retry/);
      assert.match(log, /alert delivered/);
      for (const secret of [SLACK_PATH, HOOK_PATH, "slacksecrettoken", "hooksecrettoken", "T0SLACKTEAM"])
        assert.ok(!log.includes(secret), `the log holds ${secret}:\n${log}`);
    } finally {
      await child.kill("SIGTERM");
    }
  });

  // loadConfig shows the value of an invalid setting to help the admin, and `postwatch alerter`
  // prints the error to stderr: a webhook URL missing its scheme would be a credential in the log.
  it("(f) does not echo an invalid webhook URL in the configuration error", () => {
    for (const variable of ["SLACK_WEBHOOK_URL", "WEBHOOK_URL"]) {
      const secret = `hooks.slack.com${SLACK_PATH}`;
      assert.throws(
        () => loadAlerterConfig({ NATS_URL: "nats://127.0.0.1:4222", [variable]: secret }),
        (error: Error) => {
          assert.match(error.message, new RegExp(variable));
          assert.ok(!error.message.includes("slacksecrettoken"), error.message);
          return true;
        },
      );
    }
  });
});
