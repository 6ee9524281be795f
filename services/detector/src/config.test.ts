import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadDetectorConfig, ownedPartitions, replicaSlotOf, ruleOverridesOf } from "./config.js";

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

  it("shares a stage's partitions out among its replicas, every one owned once", () => {
    const owners = [0, 1, 2, 3, 4].map((index) => ownedPartitions({ index, count: 5 }, 12));
    assert.deepEqual(owners[0], [0, 5, 10]);
    assert.deepEqual(
      owners.flat().sort((a, b) => a - b),
      Array.from({ length: 12 }, (_, p) => p),
    );
  });

  it("refuses more replicas of a partitioned stage than it has partitions", () => {
    const replicas = { NATS_URL, DETECTOR_REPLICAS: "5", DETECTOR_REPLICA_INDEX: "4", EVENT_PARTITIONS: "4" };
    assert.throws(
      () => loadDetectorConfig({ ...replicas, DETECTOR_STAGE: "correlate" }),
      /DETECTOR_REPLICAS: must be at most EVENT_PARTITIONS \(4\) under DETECTOR_STAGE=correlate/,
    );
    assert.throws(
      () => loadDetectorConfig({ ...replicas, DETECTOR_STAGE: "evaluate", FACT_PARTITIONS: "3" }),
      /DETECTOR_REPLICAS: must be at most FACT_PARTITIONS \(3\) under DETECTOR_STAGE=evaluate/,
    );
    // Under `all` replicas share rule keys, not partitions.
    assert.equal(loadDetectorConfig(replicas).DETECTOR_STAGE, "all");
    assert.throws(
      () => loadDetectorConfig({ NATS_URL, DETECTOR_STAGE: "both" }),
      /DETECTOR_STAGE: must be all, correlate or evaluate/,
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
