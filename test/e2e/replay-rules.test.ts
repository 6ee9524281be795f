/** `postwatch replay --rules` changes what the rules do: a higher threshold silences, a lower one names itself. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { Alert } from "../../shared/src/contracts/alerts.js";

const MAIN = fileURLToPath(new URL("../../services/cli/src/main.js", import.meta.url));
const SEED = fileURLToPath(new URL("../../../test/fixtures/sasl-bruteforce-seed002.log", import.meta.url));

function bruteForceAlerts(...args: string[]): Alert[] {
  const result = spawnSync(process.execPath, [MAIN, "replay", "--json", ...args, SEED], {
    env: { PATH: process.env.PATH ?? "" },
    encoding: "utf8",
    timeout: 30_000,
  });
  assert.equal(result.status, 0, result.stderr);
  return (JSON.parse(result.stdout) as { alerts: Alert[] }).alerts.filter(
    (a) => a.rule === "sasl_bruteforce",
  );
}

describe("postwatch replay --rules", () => {
  it("applies the overrides it is given", () => {
    assert.deepEqual(
      bruteForceAlerts().map((a) => a.threshold),
      [5],
    );
    assert.deepEqual(bruteForceAlerts("--rules", '{"sasl_bruteforce":{"threshold":1000}}'), []);
    assert.deepEqual(
      bruteForceAlerts("--rules", '{"sasl_bruteforce":{"threshold":3}}').map((a) => a.threshold),
      [3],
    );
  });
});
