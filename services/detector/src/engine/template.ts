/** Summary templates: `{name}` placeholders, checked against the known names when a rule compiles. */
export type TemplateValue = string | number | readonly string[];
export type Template = (values: Readonly<Record<string, TemplateValue | undefined>>) => string;

const PLACEHOLDER = /\{(\w+)\}/g;

export function compileTemplate(
  text: string,
  known: readonly string[],
  onUnknown: (name: string) => void,
): Template {
  for (const [, name] of text.matchAll(PLACEHOLDER)) if (name && !known.includes(name)) onUnknown(name);
  return (values) =>
    text.replace(PLACEHOLDER, (_, name: string) => {
      const value = values[name];
      if (value === undefined) return "?";
      if (typeof value === "string" || typeof value === "number") return String(value);
      return value.length > 0 ? value.join(", ") : "none";
    });
}

/** 600 → `10m`, 21600 → `6h`, 86400 → `1d`, 90 → `90s`. */
export function formatDuration(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}
