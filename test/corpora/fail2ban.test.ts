/**
 * fail2ban's postfix filter test log (../shared/corpora/external/fail2ban, beside the repository in
 * CI; never copied into it): of the lines fail2ban's filters act on, how many some postwatch rule
 * counts. Each line is fed alone to a fresh engine; a rule counted it if it now tracks a key.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { AuthSessions } from "../../services/detector/src/engine/auth-sessions.js";
import { DetectionEngine } from "../../services/detector/src/engine/engine.js";
import { loadRules } from "../../services/detector/src/rules/index.js";
import { lineToEvent } from "../../shared/src/pipeline/lines.js";

const CORPUS = new URL("../../../../shared/corpora/external/fail2ban/", import.meta.url);

interface Case {
  failJSON: { match: boolean };
}

/** Lines fail2ban acts on that no rule counts, each with why. */
const NOT_COUNTED: Record<string, string> = {
  "milter-reject": "a content filter refused one message: says nothing about the client",
  "hostname bad.example.com does not resolve":
    "a missing PTR record: half the legitimate senders on the internet",
  "Invalid authentication mechanism": "no password was tried (see docs/rules.md)",
  "lost connection after CONNECT": "health checks and scanners alike: too common to mean anything alone",
  "lost connection after STARTTLS": "a failed TLS handshake, usually an old client",
};

describe("fail2ban postfix test log", { skip: !existsSync(CORPUS) && "corpus absent" }, () => {
  it("every line fail2ban acts on is counted by some rule, but for the ones left out on purpose", () => {
    const rules = loadRules();
    const lines = readFileSync(new URL("input.log", CORPUS), "utf8").split("\n").filter(Boolean);
    const cases = readFileSync(new URL("expected.jsonl", CORPUS), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Case);
    const uncounted: string[] = [];
    let acted = 0;
    let counted = 0;
    lines.forEach((line, i) => {
      if (!cases[i]?.failJSON.match) return;
      acted += 1;
      const outcome = lineToEvent(line, { referenceTime: Date.UTC(2026, 11, 31), fallbackHost: "" });
      const engine = new DetectionEngine({ rules });
      if (outcome.type === "event") engine.process(outcome.event, new AuthSessions().observe(outcome.event));
      if (Object.values(engine.stats().rules).some((rule) => rule.trackedKeys > 0)) counted += 1;
      else if (!Object.keys(NOT_COUNTED).some((known) => line.includes(known))) uncounted.push(line);
    });
    assert.deepEqual(uncounted, [], "lines no rule counts, for no stated reason");
    assert.equal(`${counted} of ${acted}`, "52 of 58");
  });
});
