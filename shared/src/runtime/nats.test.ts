import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TimeoutError } from "@nats-io/transport-node";
import { declareUntilAnswered } from "./nats.js";

describe("declareUntilAnswered", () => {
  it("makes a declaration that went unanswered again, until it is answered", async () => {
    let calls = 0;
    await declareUntilAnswered(async () => {
      if (++calls < 3) throw new TimeoutError();
    });
    assert.equal(calls, 3);
  });

  it("makes it again when the stream it found is not found on update (another service's creation in progress)", async () => {
    let calls = 0;
    await declareUntilAnswered(async () => {
      if (++calls < 2) throw new Error("stream not found");
    });
    assert.equal(calls, 2);
  });

  it("gives up after four unanswered attempts, with the timeout", async () => {
    let calls = 0;
    await assert.rejects(
      declareUntilAnswered(async () => {
        calls++;
        throw new TimeoutError();
      }),
      { name: "TimeoutError" },
    );
    assert.equal(calls, 4);
  });

  it("does not repeat a declaration JetStream refused", async () => {
    let calls = 0;
    await assert.rejects(
      declareUntilAnswered(async () => {
        calls++;
        throw new Error("insufficient resources");
      }),
      /insufficient resources/,
    );
    assert.equal(calls, 1);
  });
});
