/**
 * The partitioned detector alerts exactly as one pipeline: the same log through E correlation
 * stages (events partitioned by host, as the receiver publishes them) and F evaluation stages
 * (facts routed by FactRouter, keys owned by partition) gives the alerts of one DetectionPipeline,
 * every field of every alert, for E and F in {1, 2, 4, 12}. The logs: the mixed-log generator's
 * compromised-account day written by four mail servers at once (so rule keys cross hosts and
 * event partitions), and the recorded fixtures (the seeds' logs and the per-rule fragments).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import type { Alert } from "../../../../shared/src/contracts/alerts.js";
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { lineToEvent } from "../../../../shared/src/pipeline/lines.js";
import { DetectionPipeline, EventTimeReplay } from "../pipeline.js";
import { loadRules } from "../rules/index.js";
import { fourServersLog, runPartitioned } from "./partitioned.testkit.js";

const FIXTURES = new URL("../../../../../test/fixtures/", import.meta.url);
/** BSD timestamps carry no year: the fixtures were "written" in 2026. */
const REFERENCE_TIME = Date.UTC(2026, 11, 31);
const PARTITIONS = [1, 2, 4, 12];
const rules = loadRules({});

function eventsOf(lines: Iterable<string>): PostfixEvent[] {
  const events: PostfixEvent[] = [];
  for (const line of lines) {
    if (line.startsWith("#")) continue;
    const outcome = lineToEvent(line, { referenceTime: REFERENCE_TIME, fallbackHost: "" });
    if (outcome.type === "event") events.push(outcome.event);
  }
  return events;
}

/** Four servers' days of the compromised-account scenario, as events. */
const fourServers = () => eventsOf(fourServersLog(3_000));

const LOGS: Record<string, () => PostfixEvent[]> = {
  "four mail servers, compromised account": fourServers,
  ...Object.fromEntries(
    [
      ...readdirSync(FIXTURES).filter((name) => name.endsWith(".log")),
      ...readdirSync(new URL("rules/", FIXTURES)).map((name) => `rules/${name}`),
    ].map((name) => [name, () => eventsOf(readFileSync(new URL(name, FIXTURES), "utf8").split("\n"))]),
  ),
};

function onePipeline(events: readonly PostfixEvent[]): Alert[] {
  const replay = new EventTimeReplay(new DetectionPipeline({ rules }));
  for (const event of events) replay.push(event);
  return replay.finish();
}

/** Alerts in a canonical order: the stages raise the same alerts, not necessarily in the same order. */
const canonical = (alerts: readonly Alert[]) => alerts.map((a) => JSON.stringify(a)).sort();

describe("partitioned stages alert exactly as one pipeline", () => {
  for (const [name, read] of Object.entries(LOGS))
    it(name, () => {
      const events = read();
      const expected = onePipeline(events);
      for (const e of PARTITIONS)
        for (const f of PARTITIONS) {
          const { alerts } = runPartitioned(rules, events, e, f);
          assert.deepEqual(canonical(alerts), canonical(expected), `${e} event × ${f} fact partitions`);
        }
    });

  it("shares the work: every event partition correlates some servers, every fact partition evaluates some keys", () => {
    const events = fourServers();
    const expected = onePipeline(events);
    assert.ok(
      expected.some((a) => a.rule === "compromised_sender" && a.state === "firing"),
      "the scenario raises its alert",
    );
    const { eventsIn, factsIn } = runPartitioned(rules, events, 2, 4);
    assert.ok(
      eventsIn.every((n) => n > 0 && n < events.length),
      `events per partition: ${eventsIn}`,
    );
    assert.ok(
      factsIn.every((n) => n > 0 && n < events.length),
      `facts per partition: ${factsIn}`,
    );
  });
});
