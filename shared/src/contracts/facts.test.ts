import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connectEvent as connect } from "../postfix/testing.js";
import { decodeFactMessage, encodeFactBatch, type Fact } from "./facts.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const fact = (pid: number): Fact => ({
  event: connect(pid),
  atMs: 1_000 + pid,
  seenMs: 2_000,
  authFailures: pid % 2,
  authForgiven: 0,
});
const outcomes = (text: string) =>
  decodeFactMessage(bytes(text)).map((d) => ("fact" in d ? d.fact.event.pid : d.rejected));

describe("fact batches", () => {
  it("round-trips facts in order", () => {
    const facts = [fact(1), fact(2), fact(3)];
    const decoded = decodeFactMessage(encodeFactBatch(facts.map((f) => JSON.stringify(f))));
    assert.deepEqual(
      decoded.map((d) => ("fact" in d ? d.fact : d)),
      facts,
    );
  });

  it("rejects one unreadable fact of a batch and keeps the others", () => {
    const newer = JSON.stringify({ ...fact(2), event: { ...connect(2), v: 2 } });
    const negative = JSON.stringify({ ...fact(3), authFailures: -1 });
    const noTime = JSON.stringify({ ...fact(4), atMs: null });
    const batch = encodeFactBatch([
      JSON.stringify(fact(1)),
      newer,
      negative,
      noTime,
      JSON.stringify(fact(5)),
    ]);
    assert.deepEqual(outcomes(new TextDecoder().decode(batch)), [
      1,
      "unsupported_version",
      "schema_mismatch",
      "schema_mismatch",
      5,
    ]);
  });

  it("rejects a whole message that is not JSON, not a fact batch, or a batch version it does not know", () => {
    assert.deepEqual(outcomes("{not json"), ["invalid_json"]);
    assert.deepEqual(outcomes(JSON.stringify(fact(1))), ["unsupported_version"]);
    assert.deepEqual(outcomes('{"batch":2,"facts":[]}'), ["unsupported_version"]);
    assert.deepEqual(outcomes('{"batch":1,"events":[]}'), ["unsupported_version"]);
  });
});
