import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Histogram, Registry } from "prom-client";
import { TalliedHistogram } from "./tallied-histogram.js";

const BUCKETS = [0.01, 0.5, 1, 60, 3600];
const LABEL_NAMES = ["host", "stage"] as const;

/** The same observations through prom-client's Histogram and a TalliedHistogram: their exposition. */
async function expositions(observations: readonly { host: string; stage: string; value: number }[]) {
  const reference = new Registry();
  const tallied = new Registry();
  const configuration = {
    name: "delay_seconds",
    help: "A delay.",
    labelNames: LABEL_NAMES,
    buckets: BUCKETS,
  };
  const histogram = new Histogram({ ...configuration, labelNames: [...LABEL_NAMES], registers: [reference] });
  const subject = new TalliedHistogram({ ...configuration, registers: [tallied] });
  const children = new Map<string, ReturnType<typeof subject.labels>>();
  for (const { host, stage, value } of observations) {
    histogram.labels(host, stage).observe(value);
    const key = `${host}\n${stage}`;
    let child = children.get(key);
    if (child === undefined) {
      child = subject.labels(host, stage);
      children.set(key, child);
    }
    child.observe(value);
  }
  return { expected: await reference.metrics(), actual: await tallied.metrics() };
}

describe("TalliedHistogram", () => {
  it("exposes what prom-client's Histogram exposes for the same observations, byte for byte", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            host: fc.constantFrom("mx1", "mx2", 'odd"host\\'),
            stage: fc.constantFrom("before_qmgr", "in_qmgr"),
            // Bounds themselves included: a value equal to a bound is in its bucket (le).
            value: fc.oneof(fc.constantFrom(...BUCKETS, 0), fc.double({ min: 0, max: 10_000, noNaN: true })),
          }),
          { maxLength: 50 },
        ),
        async (observations) => {
          const { expected, actual } = await expositions(observations);
          assert.equal(actual, expected);
        },
      ),
    );
  });

  it("refuses a value that is not a number, as prom-client does, rather than poison the sum", () => {
    const histogram = new TalliedHistogram({
      ...{ name: "x_seconds", help: "x" },
      labelNames: ["host"],
      buckets: BUCKETS,
      registers: [],
    });
    assert.throws(() => histogram.labels("mx1").observe(Number.NaN), TypeError);
  });

  it("refuses label values that do not match its label names", () => {
    const histogram = new TalliedHistogram({
      name: "x_seconds",
      help: "x",
      labelNames: ["host"],
      buckets: BUCKETS,
      registers: [],
    });
    assert.throws(() => histogram.labels("mx1", "extra"), /2 label values for 1 labels/);
  });
});
