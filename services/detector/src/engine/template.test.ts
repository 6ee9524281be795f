import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileTemplate } from "./template.js";

describe("summary templates", () => {
  const unknown: string[] = [];
  const summary = compileTemplate(
    "{key}: {count:debug line} in {window}, {distinct:domain}; peers: {peers}",
    ["key", "count", "window", "distinct", "peers"],
    (name) => unknown.push(name),
  );

  it("writes a number with its noun, singular for 1 and plural otherwise", () => {
    assert.equal(
      summary({ key: "mx1", count: 1, window: "1d", distinct: 1, peers: ["a", "b"] }),
      "mx1: 1 debug line in 1d, 1 domain; peers: a, b",
    );
    assert.equal(
      summary({ key: "mx1", count: 3, window: "1d", distinct: "50+", peers: [] }),
      "mx1: 3 debug lines in 1d, 50+ domains; peers: none",
    );
    assert.equal(
      summary({ key: "mx1", count: 0, window: "1d", distinct: 2 }),
      "mx1: 0 debug lines in 1d, 2 domains; peers: ?",
    );
  });

  it("names the placeholders a rule does not provide", () => {
    compileTemplate("{count:thing} {nope:thing} {also}", ["count"], (name) => unknown.push(name));
    assert.deepEqual(unknown, ["nope", "also"]);
  });
});
