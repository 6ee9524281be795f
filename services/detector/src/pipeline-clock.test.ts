/**
 * The pipeline's two clocks (see DetectionPipeline): a line's own time places it in the windows, the
 * time it was seen decides idleness and quiet periods, and a line dated too far ahead of its seen
 * time is placed at the bound and counted. Replays keep pure event time.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Alert } from "../../../shared/src/contracts/alerts.js";
import type { PostfixEvent } from "../../../shared/src/contracts/events.js";
import { lineToEvent } from "../../../shared/src/pipeline/lines.js";
import { DetectionPipeline, EventTimeReplay, TICK_MS } from "./pipeline.js";
import { loadRules } from "./rules/index.js";

const T0 = Date.parse("2026-11-03T10:00:00Z");
const MINUTE = 60_000;

function event(line: string): PostfixEvent {
  const outcome = lineToEvent(line, { referenceTime: T0, fallbackHost: "" });
  assert.equal(outcome.type, "event", line);
  return (outcome as { event: PostfixEvent }).event;
}

const failure = (atMs: number, host: string, ip: string, pid: number) =>
  event(
    `${new Date(atMs).toISOString()} ${host} postfix/smtpd[${pid}]: warning: unknown[${ip}]: SASL PLAIN authentication failed: `,
  );
const connect = (atMs: number, host: string) =>
  event(`${new Date(atMs).toISOString()} ${host} postfix/smtpd[1]: connect from unknown[192.0.2.1]`);

/** Runs the pipeline as the live detector does: `seen(atMs)` events, a tick each second between. */
class LiveRun {
  readonly pipeline = new DetectionPipeline({ rules: loadRules({}) });
  readonly alerts: Alert[] = [];
  private wallMs = T0;

  at(wallMs: number, ...events: PostfixEvent[]): this {
    for (; this.wallMs + TICK_MS <= wallMs; this.wallMs += TICK_MS)
      this.alerts.push(...this.pipeline.tick(this.wallMs + TICK_MS).alerts);
    this.wallMs = wallMs;
    for (const e of events) this.alerts.push(...this.pipeline.process(e, wallMs).alerts);
    return this;
  }

  of(rule: string, state: Alert["state"]): string[] {
    return this.alerts.filter((a) => a.rule === rule && a.state === state).map((a) => a.key.value);
  }
}

describe("pipeline clocks", () => {
  it("a line dated 2099 neither expires another server's window nor resolves its alert", () => {
    const run = new LiveRun();
    for (let i = 0; i < 4; i++) run.at(T0 + i * 2000, failure(T0 + i * 2000, "mx1", "203.0.113.5", 100 + i));
    run.at(T0 + 7000, connect(Date.parse("2099-01-01T00:00:00Z"), "mx1"));
    run.at(T0 + 9000, failure(T0 + 9000, "mx1", "203.0.113.5", 200));
    assert.deepEqual(run.of("sasl_bruteforce", "firing"), ["203.0.113.5"]);
    run.at(T0 + 5 * MINUTE, connect(Date.parse("2099-01-01T00:00:00Z"), "mx2"));
    assert.deepEqual(run.of("sasl_bruteforce", "resolved"), [], "quiet for 5 of its 15 minutes only");
    assert.equal(run.pipeline.stats().clampedEvents, 2);
  });

  it("a fast server's brute force is counted on its lines' spacing, and only its lines are clamped", () => {
    for (const aheadMs of [10 * MINUTE, 15 * MINUTE, 60 * MINUTE, 120 * MINUTE]) {
      const run = new LiveRun();
      for (let i = 0; i < 5; i++) {
        const wallMs = T0 + i * 2000;
        run.at(wallMs, failure(wallMs + aheadMs, "mx-fast", "203.0.113.6", 100 + i), connect(wallMs, "mx1"));
      }
      assert.deepEqual(run.of("sasl_bruteforce", "firing"), ["203.0.113.6"], `ahead ${aheadMs} ms`);
      assert.equal(run.pipeline.stats().clampedEvents, 5);
    }
  });

  it("a slow server's brute force still fires beside a server whose clock is right", () => {
    const run = new LiveRun();
    for (let i = 0; i < 5; i++) {
      const wallMs = T0 + i * 2000;
      run.at(
        wallMs,
        connect(wallMs, "mx1"),
        failure(wallMs - 120 * MINUTE, "mx-slow", "203.0.113.7", 100 + i),
      );
    }
    assert.deepEqual(run.of("sasl_bruteforce", "firing"), ["203.0.113.7"]);
    assert.equal(run.pipeline.stats().clampedEvents, 0);
  });

  it("resolves once the attacker has been quiet for the quiet period on the detector's clock", () => {
    const run = new LiveRun();
    for (let i = 0; i < 5; i++)
      run.at(T0 + i * 2000, failure(T0 + i * 2000 - 120 * MINUTE, "mx-slow", "203.0.113.8", 100 + i));
    run.at(T0 + 14 * MINUTE + 8000);
    assert.deepEqual(run.of("sasl_bruteforce", "resolved"), []);
    run.at(T0 + 15 * MINUTE + 9000);
    assert.deepEqual(run.of("sasl_bruteforce", "resolved"), ["203.0.113.8"]);
  });

  it("a replay keeps pure event time: a line dated 2099 is the replay's present", () => {
    const replay = new EventTimeReplay(new DetectionPipeline({ rules: loadRules({}) }));
    for (let i = 0; i < 5; i++) replay.push(failure(T0 + i * 2000, "mx1", "203.0.113.9", 100 + i));
    replay.push(connect(Date.parse("2099-01-01T00:00:00Z"), "mx1"));
    const alerts = replay.finish().filter((a) => a.rule === "sasl_bruteforce");
    assert.deepEqual(
      alerts.map((a) => a.state),
      ["firing", "resolved"],
    );
  });
});
