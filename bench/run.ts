/**
 * `npm run bench [-- SCENARIO ...]`: every scenario in turn (or only those named: throughput,
 * stages, engine-keys, live, partitioned, partitioned-cluster), one table each on stdout, written to bench/RESULTS.md with the
 * machine and time they ran on. Sections of scenarios not run this time are kept as they were,
 * each with the run line it had.
 */
import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { engineKeysScenario } from "./engine-keys.js";
import { liveScenario } from "./live.js";
import { partitionedScenario } from "./live-partitioned.js";
import { parseCorrelateScenario } from "./parse-correlate.js";
import { formatResult, type ScenarioResult } from "./report.js";
import { stagesScenario } from "./stages.js";

const SCENARIOS: Record<string, () => Promise<ScenarioResult>> = {
  throughput: parseCorrelateScenario,
  stages: stagesScenario,
  "engine-keys": engineKeysScenario,
  live: () => liveScenario(),
  partitioned: () => partitionedScenario(),
  // What R3 costs: the unpartitioned detector and two shapes of the partitioned one, on 3 nodes.
  "partitioned-cluster": () => partitionedScenario({ cluster: true, replicas: [1, 2] }),
};
/** Source tree, not dist/: the results are meant to be read and committed. */
const RESULTS_FILE = fileURLToPath(new URL("../../bench/RESULTS.md", import.meta.url));
const HEADER = "# postwatch benchmarks\n\nEach section says when and how it was run.\n";
/** Starts each section in RESULTS.md, so that a partial run knows which to replace. */
const marker = (name: string) => `<!-- scenario: ${name} -->`;

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !(name in SCENARIOS));
if (unknown.length > 0)
  throw new Error(`unknown scenario ${unknown.join(", ")}; known: ${Object.keys(SCENARIOS).join(", ")}`);
const names = asked.length > 0 ? asked : Object.keys(SCENARIOS);

const previous = await readFile(RESULTS_FILE, "utf8").catch(() => "");
const sections = new Map<string, string>();
for (const section of previous.split(/^(?=<!-- scenario: )/m).slice(1)) {
  const name = /^<!-- scenario: (\S+) -->/.exec(section)?.[1];
  if (name !== undefined) sections.set(name, section.trimEnd());
}
for (const name of names) {
  const started = new Date().toISOString();
  const loadBefore = loadavg()[0] as number;
  const section = formatResult(await (SCENARIOS[name] as () => Promise<ScenarioResult>)());
  process.stdout.write(`${section}\n`);
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}, Node ${process.version}`;
  // The machine's other work shows in every number: its load says how much there was.
  const load = `load average ${loadBefore.toFixed(1)} before, ${(loadavg()[0] as number).toFixed(1)} after`;
  const run = `Run: ${started}, commit ${commit()}, ${machine}, ${load}, \`npm run bench -- ${name}\`.`;
  sections.set(name, `${marker(name)}\n${section.replace("\n\n", `\n\n${run}\n\n`).trimEnd()}`);
}
/** The commit measured, `+` when the worktree had changes. */
function commit(): string {
  const git = (...args: string[]) => execFileSync("git", args, { encoding: "utf8" }).trim();
  try {
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--untracked-files=no") ? "+" : ""}`;
  } catch {
    return "unknown";
  }
}

const ordered = Object.keys(SCENARIOS).flatMap((name) => sections.get(name) ?? []);
await writeFile(RESULTS_FILE, `${HEADER}\n${ordered.join("\n\n")}\n`);
process.stdout.write(`written to ${RESULTS_FILE}\n`);
