import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadDetectorConfig, replicaSlotOf, ruleOverridesOf } from "./config.js";

const NATS_URL = "nats://127.0.0.1:4222";

describe("detector config", () => {
  it("runs as the only replica by default", () => {
    assert.deepEqual(replicaSlotOf(loadDetectorConfig({ NATS_URL })), { index: 0, count: 1 });
  });

  it("takes the replica index from a StatefulSet pod name with auto", () => {
    const config = loadDetectorConfig({
      NATS_URL,
      DETECTOR_REPLICAS: "3",
      DETECTOR_REPLICA_INDEX: "auto",
      HOSTNAME: "postwatch-detector-2",
    });
    assert.deepEqual(replicaSlotOf(config), { index: 2, count: 3 });
  });

  it("refuses an index the replica count does not have, or auto without an ordinal", () => {
    assert.throws(
      () => loadDetectorConfig({ NATS_URL, DETECTOR_REPLICAS: "2", DETECTOR_REPLICA_INDEX: "2" }),
      /DETECTOR_REPLICA_INDEX: must be below DETECTOR_REPLICAS \(2\)/,
    );
    assert.throws(
      () => loadDetectorConfig({ NATS_URL, DETECTOR_REPLICA_INDEX: "auto", HOSTNAME: "mail-box" }),
      /DETECTOR_REPLICA_INDEX: is auto, but HOSTNAME \("mail-box"\) does not end in -N/,
    );
    assert.throws(
      () => loadDetectorConfig({ NATS_URL, DETECTOR_REPLICA_INDEX: "-1" }),
      /DETECTOR_REPLICA_INDEX/,
    );
  });

  it("names a bad rule override, and merges the rules file under DETECTOR_RULES field by field", () => {
    assert.throws(
      () => loadDetectorConfig({ NATS_URL, DETECTOR_RULES: '{"sasl_bruteforce":{"threshold":0}}' }),
      /DETECTOR_RULES: rule sasl_bruteforce: threshold/,
    );
    const config = loadDetectorConfig({ NATS_URL, DETECTOR_RULES: '{"sasl_bruteforce":{"threshold":10}}' });
    const merged = ruleOverridesOf({ ...config, DETECTOR_RULES_FILE: "rules.json" }, () =>
      JSON.stringify({ sasl_bruteforce: { windowSeconds: 300 }, weak_tls: { enabled: false } }),
    );
    assert.deepEqual(merged, {
      sasl_bruteforce: { windowSeconds: 300, threshold: 10 },
      weak_tls: { enabled: false },
    });
  });
  it("reads the metrics hosts as a list", () => {
    const config = loadDetectorConfig({
      NATS_URL: "nats://127.0.0.1:4222",
      DETECTOR_METRICS_HOSTS: "mx1.example.org, mx2",
    });
    assert.deepEqual(config.DETECTOR_METRICS_HOSTS, ["mx1.example.org", "mx2"]);
  });
});
