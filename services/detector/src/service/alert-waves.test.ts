import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { alertWaves } from "./alert-waves.js";

describe("alertWaves", () => {
  it("keeps every alert once, in order, with no fingerprint twice in a wave", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom("a", "b", "c", "d"), { maxLength: 30 }), (keys) => {
        const alerts = keys.map((fingerprint, order) => ({ fingerprint, order }));
        const waves = alertWaves(alerts);
        assert.deepEqual(waves.flat(), alerts);
        for (const wave of waves) {
          assert.ok(wave.length > 0);
          assert.equal(new Set(wave.map((a) => a.fingerprint)).size, wave.length);
        }
      }),
    );
  });

  it("puts a key's later alert in a later wave, and different keys together", () => {
    const waves = alertWaves([
      { fingerprint: "a", state: "firing" },
      { fingerprint: "b", state: "firing" },
      { fingerprint: "a", state: "resolved" },
    ]);
    assert.deepEqual(
      waves.map((wave) => wave.map((a) => `${a.fingerprint} ${a.state}`)),
      [["a firing", "b firing"], ["a resolved"]],
    );
  });
});
