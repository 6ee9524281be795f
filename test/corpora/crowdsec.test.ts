/**
 * CrowdSec hub's own Postfix scenario tests (../shared/corpora/external/crowdsec, beside the
 * repository in CI; never copied into it): each test's log, replayed at default settings, must give
 * an alert keyed by every address the scenario bans.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { replay } from "../../services/cli/src/offline.js";

const CORPUS = new URL("../../../../shared/corpora/external/crowdsec/", import.meta.url);

interface Expected {
  expected_ban_ips: string[];
  expected_scenarios: string[];
}

const scenarioTests = existsSync(CORPUS)
  ? readdirSync(CORPUS, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => ({
        name: entry.name,
        log: new URL(`${entry.name}/input.log`, CORPUS),
        expected: JSON.parse(
          readFileSync(new URL(`${entry.name}/expected.json`, CORPUS), "utf8"),
        ) as Expected,
      }))
      .filter((test) => test.expected.expected_ban_ips.length > 0)
  : [];

describe("CrowdSec postfix scenario tests", { skip: scenarioTests.length === 0 && "corpus absent" }, () => {
  const alerted: string[] = [];

  for (const test of scenarioTests)
    it(`${test.name} (${test.expected.expected_scenarios.join(", ")}): an alert names ${test.expected.expected_ban_ips.join(", ")}`, async () => {
      const { alerts } = await replay([test.log.pathname]);
      const keyed = new Set(alerts.filter((a) => a.state === "firing").map((a) => a.key.value));
      const missed = test.expected.expected_ban_ips.filter((ip) => !keyed.has(ip));
      assert.deepEqual(missed, [], alerts.map((a) => `${a.rule} ${a.key.value}`).join("\n"));
      alerted.push(test.name);
    });

  it("all of them", () => {
    assert.equal(`${alerted.length}/${scenarioTests.length}`, "6/6");
  });
});
