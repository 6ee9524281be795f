/**
 * `npm run eval`: replays the labelled scenarios (the committed recordings and the generated ones)
 * and the public corpora, sets postwatch's verdicts beside fail2ban's and CrowdSec's, prints the
 * report and writes it to bench/EVAL.md. Seconds; it never records (that is `npm run eval:record`).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { MissingProgramError } from "../child-process.js";
import {
  corporaPresent,
  crowdsecTests,
  fail2banCorpusMatches,
  namesAddress,
  rulesCounting,
} from "./corpora.js";
import { evaluate, firstLinePerClient, type Recording, recordings, replayRaised } from "./evaluate.js";
import { type Ban, fail2banBans, type Jail, postfixJails } from "./fail2ban.js";
import { slowBruteForce } from "./generated.js";
import { type CrowdsecResult, type EvalResults, renderReport, type ScenarioResult } from "./report.js";

const REPORT = fileURLToPath(new URL("../../../bench/EVAL.md", import.meta.url));

const jails = fail2banJails();
const scratch = mkdtempSync(join(tmpdir(), "postwatch-eval-"));
try {
  const generated = slowBruteForce();
  const generatedFile = join(scratch, `${generated.scenario.name}.log`);
  writeFileSync(generatedFile, generated.log);
  const all: Recording[] = [...recordings(), { scenario: generated.scenario, file: generatedFile }];
  const scenarios = await Promise.all(all.map(scoreWithPeers));
  const results: EvalResults = { scenarios, crowdsec: undefined, fail2banCorpus: undefined };
  if (corporaPresent()) {
    results.crowdsec = await Promise.all(crowdsecTests().map(crowdsecVerdict));
    const lines = fail2banCorpusMatches();
    const counted = await rulesCounting(lines);
    results.fail2banCorpus = { lines: lines.map((line, i) => ({ ...line, rules: counted[i] ?? [] })) };
  } else console.log("../shared/corpora/external is absent: the public corpora are skipped");
  const report = renderReport(results);
  writeFileSync(REPORT, report);
  console.log(report);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

async function scoreWithPeers(recording: Recording): Promise<ScenarioResult> {
  const [score, bans, firstLines] = await Promise.all([
    evaluate(recording),
    peerBans(recording.file),
    firstLinePerClient(recording.file),
  ]);
  return { score, bans, firstLines };
}

async function crowdsecVerdict(test: ReturnType<typeof crowdsecTests>[number]): Promise<CrowdsecResult> {
  const [raised, bans] = await Promise.all([replayRaised(test.file), peerBans(test.file)]);
  const firing = raised.filter(({ alert }) => alert.state === "firing");
  const postwatch = new Map(
    test.bannedIps.map((ip) => [
      ip,
      [...new Set(firing.filter(({ alert }) => namesAddress(alert, ip)).map(({ alert }) => alert.rule))],
    ]),
  );
  return { ...test, postwatch, bans };
}

function peerBans(file: string): Promise<Ban[] | undefined> {
  return jails === undefined ? Promise.resolve(undefined) : fail2banBans(file, jails);
}

function fail2banJails(): Jail[] | undefined {
  try {
    return postfixJails();
  } catch (error) {
    if (!(error instanceof MissingProgramError) && (error as NodeJS.ErrnoException).code !== "ENOENT")
      throw error;
    console.log("fail2ban is not installed (apt-get install fail2ban): its verdicts are left out");
    return undefined;
  }
}
