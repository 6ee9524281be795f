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
