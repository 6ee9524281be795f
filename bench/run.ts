/**
 * `npm run bench`: every scenario in turn, one table each on stdout, all of them written to
 * bench/RESULTS.md with the machine they ran on.
 */
import { writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { engineKeysScenario } from "./engine-keys.js";
import { liveScenario } from "./live.js";
import { parseCorrelateScenario } from "./parse-correlate.js";
import { formatResult, type ScenarioResult } from "./report.js";
import { stagesScenario } from "./stages.js";

const SCENARIOS: readonly (() => Promise<ScenarioResult>)[] = [
  parseCorrelateScenario,
  stagesScenario,
  engineKeysScenario,
  liveScenario,
];
/** Source tree, not dist/: the results are meant to be read and committed. */
const RESULTS_FILE = fileURLToPath(new URL("../../bench/RESULTS.md", import.meta.url));

const sections: string[] = [];
for (const scenario of SCENARIOS) {
  const section = formatResult(await scenario());
  process.stdout.write(`${section}\n`);
  sections.push(section);
}
const machine = `${new Date().toISOString()}, Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? "unknown CPU"}`;
await writeFile(
  RESULTS_FILE,
  `# postwatch benchmarks\n\nRun: ${machine}. Produced by \`npm run bench\`.\n\n${sections.join("\n")}`,
);
process.stdout.write(`written to ${RESULTS_FILE}\n`);
