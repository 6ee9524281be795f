/**
 * `npm run eval:record [name...]`: records the labelled scenarios (bench/eval/scenarios.ts) from a
 * real Postfix into test/fixtures/eval/<name>.log and <name>.json. Needs root, postfix, swaks,
 * sasl2-bin and rsyslog (bash .ci/run installs them); takes a few minutes. `npm run eval` replays
 * the recordings; it never records.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { RECORDINGS_DIR } from "./evaluate.js";
import { Scene } from "./recorder.js";
import { INTERNET, SCRIPTS, USERS } from "./scenarios.js";

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !SCRIPTS.some((script) => script.name === name));
if (unknown.length > 0) {
  console.error(`unknown scenario ${unknown.join(", ")}; known: ${SCRIPTS.map((s) => s.name).join(", ")}`);
  process.exit(2);
}
for (const script of SCRIPTS.filter((s) => wanted.length === 0 || wanted.includes(s.name))) {
  const started = Date.now();
  const scene = await Scene.start({
    name: script.name,
    title: script.title,
    users: USERS,
    internet: INTERNET,
  });
  try {
    await script.run(scene);
  } catch (error) {
    await scene.stop();
    throw error;
  }
  const scenario = await scene.finish(RECORDINGS_DIR);
  const lines = scenario.phases.reduce((sum, phase) => sum + phase.lines, 0);
  console.log(
    `${script.name}: ${lines} lines, ${scenario.actors.length} actors, ${Math.round((Date.now() - started) / 1000)} s`,
  );
}
// JSON as the repository's formatter lays it out, so the recordings pass `npm run lint` as written.
execFileSync(
  fileURLToPath(new URL("../../../node_modules/.bin/biome", import.meta.url)),
  ["format", "--write", RECORDINGS_DIR],
  {
    stdio: "ignore",
  },
);
