/**
 * The alerter's destinations are independent, and what a destination took stays taken across a
 * crash: a hanging webhook does not hold Slack back, a `kill -9` in the middle of a delivery posts
 * nothing again that a destination had accepted, and an upgrade from the single consumer of older
 * versions re-posts nothing that consumer had acked. Each case has its own nats-server, so no
 * consumer or delivery record carries over between them.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import { DELIVERY_BUCKET } from "../../services/alerter/src/delivery-log.js";
import { sampleAlert } from "../../services/alerter/src/testing.js";
import { runOne } from "../../services/cli/src/online.js";
import { type Alert, alertIdentity } from "../../shared/src/contracts/alerts.js";
import { ALERTS_STREAM, alertSubject, LEGACY_ALERTER_DURABLE } from "../../shared/src/contracts/subjects.js";
import { createLogger } from "../../shared/src/runtime/log.js";
import { DEFAULT_STREAM_LIMITS, ensureStreams } from "../../shared/src/runtime/nats.js";
import { startTestNats, type TestNats } from "../helpers/nats-server.js";
import { type ScriptedRequest, startScriptedHttpServer } from "../helpers/scripted-http.js";
import { spawnService } from "../helpers/service-process.js";

const SLACK_PATH = "/services/T0SLACK/B0HOOK/isolationsecret";
const HOOK_PATH = "/hooks/isolation-secret";
const isSlack = (request: ScriptedRequest) => request.path === SLACK_PATH;
const isHook = (request: ScriptedRequest) => request.path === HOOK_PATH;
const fingerprintOf = (request: ScriptedRequest) => (request.body as Alert).fingerprint;

function wave(prefix: string, n: number): Alert[] {
  return Array.from({ length: n }, (_, i) =>
    sampleAlert({
      fingerprint: `${prefix}-${String(i).padStart(2, "0")}`,
      key: { type: "client_ip", value: `198.18.9.${i}` },
      summary: `SASL brute force from 198.18.9.${i}`,
    }),
  );
}

/** Slack and the webhook on the test's HTTP server, metrics on a free loopback port. */
const alerterEnv = (nats: TestNats, httpUrl: string) => ({
  ...nats.env,
  SLACK_WEBHOOK_URL: `${httpUrl}${SLACK_PATH}`,
  WEBHOOK_URL: `${httpUrl}${HOOK_PATH}`,
  METRICS_HOST: "127.0.0.1",
  METRICS_PORT: "0",
});

async function publish(nats: TestNats, alerts: Alert[]): Promise<void> {
  const client = await connect({ servers: nats.url });
  const js = jetstream(client);
  for (const alert of alerts)
    await js.publish(alertSubject(alert.rule), JSON.stringify(alert), { msgID: alertIdentity(alert) });
  await client.close();
}

describe("alerter destinations in isolation", () => {
  it("a hanging webhook does not hold Slack back", async () => {
    await using nats = await startTestNats();
    await using http = await startScriptedHttpServer();
    // The webhook never answers the first alert; its requests time out only after 20 s.
    http.respond((request) =>
      request.path === HOOK_PATH && request.text.includes("hang-00")
        ? { status: 0, hang: true }
        : { status: 200 },
    );
    const alerter = await runOne("alerter", {
      ...alerterEnv(nats, http.url),
      WEBHOOK_TIMEOUT_MS: "20000",
      ALERTER_GROUP_WAIT_MS: "50",
      LOG_LEVEL: "silent",
    });
    try {
      const [stuck, next] = wave("hang", 2) as [Alert, Alert];
      await publish(nats, [stuck]);
      const [hanging] = await http.waitFor(
        isHook,
        (r) => r.length > 0,
        10_000,
        "the webhook's hanging request",
      );
      await publish(nats, [next]);
      // By its key: Slack may post both alerts as one digest, whose entries carry no fingerprint.
      const [slack] = await http.waitFor(
        (r) => isSlack(r) && r.text.includes(next.key.value),
        (r) => r.length > 0,
        15_000,
        "Slack's copy of the second alert",
      );
      assert.ok(slack && hanging);
      assert.equal(hanging.closedAt, undefined, "Slack had the alert while the webhook still hung");
      assert.equal(
        http.requests.filter((r) => isHook(r) && r.text.includes(next.fingerprint)).length,
        0,
        "the webhook keeps its order: the second alert waits behind the first",
      );
    } finally {
      await alerter.stop();
    }
  });

  it("kill -9 in the middle of a delivery posts nothing again that a destination took", async () => {
    await using nats = await startTestNats();
    await using http = await startScriptedHttpServer();
    const alerts = wave("crash", 31);
    // The webhook takes ten alerts, then hangs on the eleventh: the alerter dies waiting for it.
    let hookAnswers = 0;
    http.respond((request) => {
      if (request.path !== HOOK_PATH) return { status: 200 };
      hookAnswers++;
      return hookAnswers === 11 ? { status: 0, hang: true } : { status: 200 };
    });
    const env = {
      ...alerterEnv(nats, http.url),
      WEBHOOK_TIMEOUT_MS: "30000",
      ALERTER_GROUP_WAIT_MS: "300",
      ALERTER_REDELIVERY_SECONDS: "1",
    };
    const first = spawnService("alerter", env);
    let second: ReturnType<typeof spawnService> | undefined;
    const client = await connect({ servers: nats.url });
    try {
      await first.running();
      await publish(nats, alerts);
      await http.waitFor(isHook, (r) => r.length === 11, 15_000, "the eleventh webhook request");
      const slack = await http.waitFor(
        isSlack,
        (r) => alerts.every((a) => r.some((request) => request.text.includes(`${a.key.value} (firing)`))),
        15_000,
        "the Slack digest of all 31 alerts",
      );
      // What each destination took is recorded before the next request goes out; Slack's digest
      // is recorded right after its answer, so wait for that record rather than for a time.
      const kv = await new Kvm(client).open(DELIVERY_BUCKET);
      const recorded = async (destination: string) => {
        let n = 0;
        for await (const _ of await kv.keys(`${destination}.>`)) n++;
        return n;
      };
      for (let tries = 0; (await recorded("slack")) < 31; tries++) {
        assert.ok(tries < 200, "Slack's deliveries recorded");
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      assert.equal(await recorded("webhook"), 10);
      await first.kill("SIGKILL");
      const slackBefore = slack.length;

      second = spawnService("alerter", env);
      await second.running();
      const hook = await http.waitFor(
        (r) => isHook(r) && r.answer.status === 200,
        (r) => new Set(r.map(fingerprintOf)).size === 31,
        20_000,
        "every alert delivered to the webhook after the restart",
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(http.requests.filter(isSlack).length, slackBefore, "Slack got nothing again");
      const taken = http.requests.filter((r) => isHook(r) && r.answer.status === 200);
      assert.equal(taken.length, 31, "each alert taken once by the webhook");
      assert.equal(hook.length, 31);
      // The one the crash interrupted comes again under the same key, for a receiver that did take it.
      const interrupted = http.requests.filter(isHook)[10];
      const again = taken.find((r) => interrupted && fingerprintOf(r) === fingerprintOf(interrupted));
      assert.ok(interrupted?.headers["idempotency-key"]);
      assert.equal(again?.headers["idempotency-key"], interrupted?.headers["idempotency-key"]);
    } finally {
      await first.kill("SIGKILL");
      await second?.kill("SIGTERM");
      await client.close();
    }
  });

  it("takes over from the single consumer of older versions where it had got to", async () => {
    await using nats = await startTestNats();
    await using http = await startScriptedHttpServer();
    const client = await connect({ servers: nats.url });
    try {
      await ensureStreams(
        client,
        { limits: DEFAULT_STREAM_LIMITS, replicas: 1 },
        createLogger({ level: "silent", service: "test" }),
      );
      const jsm = await jetstreamManager(client);
      await jsm.consumers.add(ALERTS_STREAM, {
        durable_name: LEGACY_ALERTER_DURABLE,
        ack_policy: AckPolicy.Explicit,
      });
      const [taken, owed] = wave("legacy", 2) as [Alert, Alert];
      await publish(nats, [taken]);
      const legacy = await jetstream(client).consumers.get(ALERTS_STREAM, LEGACY_ALERTER_DURABLE);
      const message = await legacy.next({ expires: 5000 });
      assert.ok(message, "the old consumer reads the first alert");
      assert.equal((message.json() as Alert).fingerprint, taken.fingerprint);
      await message.ackAck();
      await publish(nats, [owed]);

      const alerter = await runOne("alerter", { ...alerterEnv(nats, http.url), LOG_LEVEL: "silent" });
      try {
        await http.waitFor(isHook, (r) => r.length > 0, 10_000, "the alert the old consumer owed");
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.deepEqual(http.requests.filter(isHook).map(fingerprintOf), [owed.fingerprint]);
        await assert.rejects(
          jsm.consumers.info(ALERTS_STREAM, LEGACY_ALERTER_DURABLE),
          "the old consumer is gone",
        );
      } finally {
        await alerter.stop();
      }
    } finally {
      await client.close();
    }
  });
});
