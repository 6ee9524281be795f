/**
 * The evaluation's bar (issue 11), on the committed recordings of a real Postfix and the generated
 * slow brute force, at default settings: every attacker raises the rules its ground truth expects,
 * no benign actor is alerted on, and a 5-failure brute force is seen no later than fail2ban's jail
 * would ban it. Replays only (`npm run eval:record` re-records). A verdict that waits on a rule
 * change is `todo`, naming it: it still runs and reports.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { corporaPresent, crowdsecTests, namesAddress } from "./corpora.js";
import { evaluate, firstLinePerClient, type Recording, recordings, replayRaised } from "./evaluate.js";
import { fail2banBans, postfixJails } from "./fail2ban.js";
import { slowBruteForce } from "./generated.js";
import type { ScenarioScore } from "./score.js";

/** `scenario/actor` → why its verdict is expected to fail for now. */
const PENDING: Readonly<Record<string, string>> = {};

const scratch = mkdtempSync(join(tmpdir(), "postwatch-eval-test-"));
const generated = slowBruteForce();
const generatedFile = join(scratch, `${generated.scenario.name}.log`);
writeFileSync(generatedFile, generated.log);
const all: Recording[] = [...recordings(), { scenario: generated.scenario, file: generatedFile }];

after(() => rmSync(scratch, { recursive: true, force: true }));

for (const recording of all) {
  describe(`${recording.scenario.name} (${recording.scenario.source})`, () => {
    let score: ScenarioScore;
    before(async () => {
      score = await evaluate(recording);
    });
    for (const actor of recording.scenario.actors) {
      const id = `${recording.scenario.name}/${actor.name}`;
      const what =
        actor.role === "attacker"
          ? `${actor.name} (attacker) raises ${actor.expect.join(" and ")}`
          : `${actor.name} (benign) is not alerted on`;
      test(what, { todo: PENDING[id] }, () => {
        const verdict = score.actors.find((v) => v.actor === actor);
        const raised = verdict?.alerts.map((d) => `${d.rule} (${d.severity})`) ?? [];
        if (actor.role === "attacker")
          assert.deepEqual(verdict?.missed, [], `raised: ${raised.join(", ") || "nothing"}`);
        else assert.deepEqual(raised, []);
      });
    }
  });
}

test("the 5-failure brute force is alerted on no later than fail2ban's postfix-sasl jail bans it", async () => {
  const recording = all.find((r) => r.scenario.name === "brute-force");
  assert.ok(recording);
  const attacker = recording.scenario.actors.find((actor) => actor.role === "attacker");
  const ip = attacker?.clientIps[0] as string;
  const jails = postfixJails().filter((jail) => jail.name === "postfix-sasl");
  const [raised, bans, firstLines] = await Promise.all([
    replayRaised(recording.file),
    fail2banBans(recording.file, jails),
    firstLinePerClient(recording.file),
  ]);
  const alert = raised.find(({ alert }) => alert.rule === "sasl_bruteforce" && alert.key.value === ip);
  const ban = bans.find((b) => b.ip === ip);
  assert.ok(alert && ban, "both postwatch and fail2ban act on it");
  assert.ok(alert.atMs <= ban.atMs, `postwatch at ${alert.atMs}, fail2ban at ${ban.atMs}`);
  assert.ok(alert.atMs >= (firstLines.get(ip) ?? Number.POSITIVE_INFINITY), "not before the attack began");
});

describe("CrowdSec hub's Postfix scenario tests: an alert naming every address CrowdSec bans", {
  skip: corporaPresent() ? false : "../shared/corpora/external is absent",
}, () => {
  for (const crowdsec of corporaPresent() ? crowdsecTests() : [])
    test(crowdsec.name, async () => {
      const firing = (await replayRaised(crowdsec.file)).filter(({ alert }) => alert.state === "firing");
      const unnamed = crowdsec.bannedIps.filter((ip) => !firing.some(({ alert }) => namesAddress(alert, ip)));
      assert.deepEqual(unnamed, []);
    });
});
