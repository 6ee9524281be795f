/**
 * The names a reference doc lists (docs/configuration.md, docs/metrics.md), and how they differ
 * from the names the code defines, worded so whoever added a variable or a metric knows what to do.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The first cell of each table row that is one `name` in backticks; `until`: ignore the doc from that line on. */
export function documentedNames(doc: string, until?: string): Set<string> {
  let text = readFileSync(fileURLToPath(new URL(`../../../${doc}`, import.meta.url)), "utf8");
  if (until !== undefined && text.includes(until)) text = text.slice(0, text.indexOf(until));
  return new Set([...text.matchAll(/^\| *`([^`]+)` *\|/gm)].map((match) => match[1] as string));
}

/** `defined`: each name the code defines, with who defines it. */
export function undocumented(
  doc: string,
  defined: ReadonlyMap<string, string>,
  listed: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  for (const [name, where] of defined)
    if (!listed.has(name))
      problems.push(`${doc} does not list ${name} (${where}): add a row | \`${name}\` | ... | for it`);
  for (const name of listed)
    if (!defined.has(name))
      problems.push(`${doc} lists ${name}, which the code does not define: remove or rename its row`);
  return problems;
}
