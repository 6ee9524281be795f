/**
 * Replays a labelled log through `postwatch replay`'s own code (services/cli/src/offline.ts) at
 * default settings and scores its alerts against the ground truth.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { forEachEvent, newInputStats } from "../../services/cli/src/input.js";
import { replay } from "../../services/cli/src/offline.js";
import { clientIpOf } from "../../services/detector/src/engine/addresses.js";
import { type RaisedAlert, type ScenarioScore, scoreScenario } from "./score.js";
import { Scenario } from "./truth.js";

/** The committed recordings: `<name>.log` and its ground truth `<name>.json`. */
export const RECORDINGS_DIR = fileURLToPath(new URL("../../../test/fixtures/eval/", import.meta.url));

export interface Recording {
  scenario: Scenario;
  file: string;
}

export function recordings(dir = RECORDINGS_DIR): Recording[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => ({
      scenario: Scenario.parse(JSON.parse(readFileSync(join(dir, name), "utf8"))),
      file: join(dir, name.replace(/\.json$/, ".log")),
    }));
}

/** Every alert of a replay of `file`, with the event time it was raised at. */
export async function replayRaised(file: string): Promise<RaisedAlert[]> {
  const { alerts, raisedAtMs } = await replay([file]);
  return alerts.map((alert, i) => ({ alert, atMs: raisedAtMs[i] as number }));
}

/** The event time of each client address's first line. */
export async function firstLinePerClient(file: string): Promise<Map<string, number>> {
  const first = new Map<string, number>();
  await forEachEvent([file], newInputStats(), (event, atMs) => {
    const ip = clientIpOf(event);
    if (ip !== undefined && !first.has(ip)) first.set(ip, atMs);
  });
  return first;
}

export async function evaluate({ scenario, file }: Recording): Promise<ScenarioScore> {
  const [raised, firstLines] = await Promise.all([replayRaised(file), firstLinePerClient(file)]);
  return scoreScenario(scenario, raised, firstLines);
}
