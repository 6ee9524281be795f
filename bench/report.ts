/** What a scenario hands back, and the one table format used for the terminal and RESULTS.md. */
export interface ScenarioResult {
  title: string;
  columns: string[];
  rows: string[][];
  /** What the numbers mean and what was not measured as asked. */
  notes: string[];
}

/** A markdown table padded to line up, so the same text reads well in a terminal. */
export function markdownTable(columns: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = columns.map((column, i) =>
    Math.max(column.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  return [line(columns), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)];
}

export function formatResult(result: ScenarioResult): string {
  return [
    `## ${result.title}`,
    "",
    ...markdownTable(result.columns, result.rows),
    "",
    ...result.notes.map((note) => `- ${note}`),
    "",
  ].join("\n");
}

export const perSecond = (count: number, ms: number): string =>
  Math.round((count / ms) * 1000).toLocaleString("en-US");
export const seconds = (ms: number): string => (ms / 1000).toFixed(2);
export const megabytes = (kb: number): string => (kb / 1024).toFixed(0);
