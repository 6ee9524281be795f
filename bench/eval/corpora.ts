/**
 * The public corpora in ../shared/corpora/external (beside the repository; never copied into it):
 * CrowdSec hub's Postfix scenario tests with the addresses each bans, and fail2ban's postfix test
 * log with the lines its filter acts on.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { replay } from "../../services/cli/src/offline.js";
import { loadRules } from "../../services/detector/src/rules/index.js";
import { type Alert, AlertKey } from "../../shared/src/contracts/alerts.js";
import { inNetwork } from "./score.js";

export const CORPORA_DIR = fileURLToPath(new URL("../../../../shared/corpora/external/", import.meta.url));

export const corporaPresent = () => existsSync(CORPORA_DIR);

export interface CrowdsecTest {
  name: string;
  file: string;
  scenarios: string[];
  bannedIps: string[];
}

/** The hub's scenario tests (those expecting overflows; `postfix-logs` only tests the parser). */
export function crowdsecTests(): CrowdsecTest[] {
  const root = join(CORPORA_DIR, "crowdsec");
  return readdirSync(root)
    .sort()
    .map((name) => {
      const expected = JSON.parse(readFileSync(join(root, name, "expected.json"), "utf8")) as {
        expected_ban_ips: string[];
        expected_scenarios: string[];
      };
      return {
        name,
        file: join(root, name, "input.log"),
        scenarios: expected.expected_scenarios,
        bannedIps: expected.expected_ban_ips,
      };
    })
    .filter((test) => test.scenarios.length > 0);
}

export interface Fail2banCorpusLine {
  line: string;
  /** The address fail2ban's filter takes from the line. */
  host: string;
  /** The filter modes (fail2ban's test sections) the line is tested under. */
  modes: string;
}

/** The lines of fail2ban's postfix test log its filter must match. */
export function fail2banCorpusMatches(): Fail2banCorpusLine[] {
  const dir = join(CORPORA_DIR, "fail2ban");
  const lines = readFileSync(join(dir, "input.log"), "utf8").split("\n");
  const expectations = readFileSync(join(dir, "expected.jsonl"), "utf8").split("\n").filter(Boolean);
  return expectations.flatMap((text, i) => {
    const expected = JSON.parse(text) as {
      failJSON: { match: boolean; host?: string };
      filterOptions: string;
    };
    const line = lines[i] ?? "";
    if (!expected.failJSON.match || expected.failJSON.host === undefined) return [];
    return [{ line, host: expected.failJSON.host, modes: expected.filterOptions }];
  });
}

/** Every rule with every threshold at 1: which rules count a line at all. */
function countAnything(): Record<string, unknown> {
  const ones = Object.fromEntries(AlertKey.shape.type.options.map((type) => [type, 1]));
  return Object.fromEntries(loadRules().map((rule) => [rule.id, { threshold: 1, thresholdByKey: ones }]));
}

/**
 * For each line, the rules that count it toward an alert naming its address: the line replayed
 * alone with every threshold at 1 (at default thresholds a single line alerts on nothing).
 */
export async function rulesCounting(lines: readonly Fail2banCorpusLine[]): Promise<string[][]> {
  const dir = mkdtempSync(join(tmpdir(), "postwatch-eval-fail2ban-"));
  try {
    const overrides = countAnything();
    const counted: string[][] = [];
    for (const [i, { line, host }] of lines.entries()) {
      const file = join(dir, `${i}.log`);
      writeFileSync(file, `${line}\n`);
      const { alerts } = await replay([file], overrides);
      const naming = alerts.filter((alert) => alert.state === "firing" && namesAddress(alert, host));
      counted.push([...new Set(naming.map((alert) => alert.rule))]);
    }
    return counted;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The alert's key is the address (or a network holding it), or the alert relates it. */
export function namesAddress(alert: Pick<Alert, "key" | "related">, ip: string): boolean {
  const { type, value } = alert.key;
  return (
    (type === "client_net" ? inNetwork(ip, value) : value === ip) || alert.related.clientIps.includes(ip)
  );
}
