import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { connectEvent as connect } from "../postfix/testing.js";
import { decodeEventMessage, encodeEventBatch } from "./event-batch.js";

const bytes = (text: string) => new TextEncoder().encode(text);
const outcomes = (text: string) =>
  decodeEventMessage(bytes(text)).map((d) => ("event" in d ? d.event.pid : d.rejected));

describe("event batches", () => {
  it("round-trips events in order", () => {
    const events = [connect(1), connect(2), connect(3)];
    const decoded = decodeEventMessage(encodeEventBatch(events.map((e) => JSON.stringify(e))));
    assert.deepEqual(
      decoded.map((d) => ("event" in d ? d.event : d)),
      events,
    );
  });

  it("reads a bare event, as receivers before batching sent", () => {
    assert.deepEqual(outcomes(JSON.stringify(connect(7))), [7]);
  });

  it("rejects one unreadable event of a batch and keeps the others", () => {
    const newer = JSON.stringify({ ...connect(2), v: 2 });
    const broken = JSON.stringify({ ...connect(3), client: "not an endpoint" });
    const batch = encodeEventBatch([JSON.stringify(connect(1)), newer, broken, JSON.stringify(connect(4))]);
    assert.deepEqual(outcomes(new TextDecoder().decode(batch)), [
      1,
      "unsupported_version",
      "schema_mismatch",
      4,
    ]);
  });

  it("rejects a whole message that is not JSON, or a batch version it does not know", () => {
    assert.deepEqual(outcomes("{not json"), ["invalid_json"]);
    assert.deepEqual(outcomes('{"batch":2,"events":[]}'), ["unsupported_version"]);
    assert.deepEqual(outcomes('{"batch":1,"events":{}}'), ["unsupported_version"]);
  });
});
