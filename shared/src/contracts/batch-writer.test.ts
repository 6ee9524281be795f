import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { BatchWriter, encodeBatch } from "./batch-writer.js";

/** The envelope as the string it stands for: the writer must give exactly its UTF-8 bytes. */
const envelope = (items: readonly string[]) => `{"batch":3,"things":[${items.join(",")}]}`;
const utf8 = (text: string) => new TextEncoder().encode(text);

describe("BatchWriter", () => {
  it("writes the UTF-8 bytes of the envelope, whatever the items hold", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "grapheme", maxLength: 40 })), (texts) => {
        const items = texts.map((text) => JSON.stringify({ text }));
        const writer = new BatchWriter("things", 3);
        for (const item of items) writer.append(item);
        assert.equal(writer.items, items.length);
        assert.equal(writer.chars, items.join(",").length);
        assert.deepEqual(writer.take(), utf8(envelope(items)));
      }),
    );
  });

  it("encodes a whole batch in a writer sized for it, whatever the items hold", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "grapheme", maxLength: 40 })), (texts) => {
        const items = texts.map((text) => JSON.stringify({ text }));
        assert.deepEqual(encodeBatch("things", 3, items), utf8(envelope(items)));
      }),
    );
  });

  it("grows past its first buffer, with characters of three and four bytes", () => {
    const item = JSON.stringify("€𝄞".repeat(20_000));
    const writer = new BatchWriter("things", 3);
    for (let i = 0; i < 3; i++) writer.append(item);
    assert.deepEqual(writer.take(), utf8(envelope([item, item, item])));
  });

  it("starts the next batch empty after a take, and the payload taken stays as it was", () => {
    const writer = new BatchWriter("things", 3);
    writer.append('"first"');
    const first = writer.take();
    assert.equal(writer.items, 0);
    assert.equal(writer.chars, 0);
    writer.append('"second"');
    assert.deepEqual(writer.take(), utf8(envelope(['"second"'])));
    assert.deepEqual(first, utf8(envelope(['"first"'])));
    assert.deepEqual(writer.take(), utf8(envelope([])));
  });
});
