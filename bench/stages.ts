/**
 * Scenario: where a line's time goes in parse + correlate. The same jobs the throughput scenario
 * times, cut into cumulative stages (bench/measure.ts `read`, `header`, `parse`, `parse-correlate`),
 * each its own process on the same 1,000,000-line log; the difference between neighbours is what a
 * stage adds per line. Node's start-up is in every row and cancels out of the differences.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { best, measurePostwatch, RUNS, writeLog } from "./jobs.js";
import type { Job } from "./measure.js";
import { type ScenarioResult, seconds } from "./report.js";

const LINES = 1_000_000;

const STAGES: readonly { job: Job; adds: string }[] = [
  { job: "read", adds: "chunked reader: bytes → one string per line" },
  { job: "header", adds: "syslog header: timestamp, host, tag, pid" },
  { job: "parse", adds: "Postfix message → typed event" },
  { job: "parse-correlate", adds: "Correlator: sessions, queue IDs, message summaries" },
];

export async function stagesScenario(): Promise<ScenarioResult> {
  const dir = await mkdtemp(join(tmpdir(), "postwatch-stages-"));
  try {
    const file = await writeLog(join(dir, "mail.log"), { lines: LINES, seed: 1, format: "rfc3339" });
    const times: number[] = [];
    for (const { job } of STAGES) times.push((await best(() => measurePostwatch(job, file, LINES))).ms);
    const total = times[times.length - 1] as number;
    return {
      title: `Where the time goes: parse + correlate, ${LINES.toLocaleString("en-US")} lines, by stage`,
      columns: ["job", "adds", "seconds (cumulative)", "µs per line added", "share"],
      rows: STAGES.map(({ job, adds }, i) => {
        const added = (times[i] as number) - (i === 0 ? 0 : (times[i - 1] as number));
        return [
          job,
          adds,
          seconds(times[i] as number),
          ((added * 1000) / LINES).toFixed(2),
          `${Math.round((added / total) * 100)}%`,
        ];
      }),
      notes: [
        `Each job includes the stages above it and runs as its own process, best of ${RUNS}; the first row includes Node's start-up and module loading.`,
        "For the 10× fail2ban-regex target, the last row's time per line must be a tenth of fail2ban-regex's in the throughput table above.",
      ],
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
