import { readFileSync } from "node:fs";

/** A fixture's lines. Paths are relative to the repository root (dist/ mirrors the sources). */
export function fixtureLines(name: string): string[] {
  const text = readFileSync(new URL(`../../../test/fixtures/${name}`, import.meta.url), "utf8");
  return text.split("\n").filter((line) => line.length > 0);
}

/** As rsyslog's default RSYSLOG_TraditionalForwardFormat sends a file line: `<PRI>` + the line. */
export const traditionalForward = (line: string, pri = 22) => `<${pri}>${line}`;
