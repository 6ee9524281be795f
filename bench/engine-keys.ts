/** Scenario: events/s through the rule engine and the memory a million distinct keys take. */
import { fileURLToPath } from "node:url";
import { runWithDeadline } from "./child-process.js";
import { megabytes, perSecond, type ScenarioResult, seconds } from "./report.js";

const KEYS = 1_000_000;
const MEASURE = fileURLToPath(new URL("./measure-engine-keys.js", import.meta.url));

interface Measurement {
  keys: number;
  passes: { events: number; ms: number; heapKb: number; rssKb: number }[];
  alerts: number;
  maxRssKb: number;
  rules: Record<string, { trackedKeys: number; evictions: number }>;
}

export async function engineKeysScenario(): Promise<ScenarioResult> {
  const run = await runWithDeadline(process.execPath, ["--expose-gc", MEASURE, String(KEYS)], {
    timeoutMs: 300_000,
  });
  const result = JSON.parse(run.stdout) as Measurement;
  const passNames = ["1st pass: every address new", "2nd pass: every address known"];
  return {
    title: `Rule engine: ${KEYS.toLocaleString("en-US")} distinct client addresses, default rules`,
    columns: ["pass", "events", "seconds", "events/s", "heap after GC (MB)", "RSS (MB)"],
    rows: result.passes.map((pass, i) => [
      passNames[i] ?? `pass ${i + 1}`,
      pass.events.toLocaleString("en-US"),
      seconds(pass.ms),
      perSecond(pass.events, pass.ms),
      megabytes(pass.heapKb),
      megabytes(pass.rssKb),
    ]),
    notes: [
      `One \`sasl_auth_failed\` event per address per pass, through DetectionEngine.process (event construction included). Peak RSS ${megabytes(result.maxRssKb)} MB; ${result.alerts} alerts.`,
      `Keys held at the end, per rule: ${Object.entries(result.rules)
        .map(
          ([id, stats]) =>
            `${id} ${stats.trackedKeys.toLocaleString("en-US")} (evicted ${stats.evictions.toLocaleString("en-US")})`,
        )
        .join("; ")}.`,
    ],
  };
}
