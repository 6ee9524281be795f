/**
 * Summary templates: `{name}` placeholders, checked against the known names when a rule compiles.
 * `{name:noun}` writes the number with its noun, singular or plural as the number asks: with
 * count 1, `{count:debug line}` reads "1 debug line", with 3 "3 debug lines" (a capped distinct
 * count such as `50+` is plural). Nouns take a plain `s`: rules name only such nouns.
 */
export type TemplateValue = string | number | readonly string[];
export type Template = (values: Readonly<Record<string, TemplateValue | undefined>>) => string;

const PLACEHOLDER = /\{(\w+)(?::([^{}]+))?\}/g;

export function compileTemplate(
  text: string,
  known: readonly string[],
  onUnknown: (name: string) => void,
): Template {
  for (const [, name] of text.matchAll(PLACEHOLDER)) if (name && !known.includes(name)) onUnknown(name);
  return (values) =>
    text.replace(PLACEHOLDER, (_, name: string, noun: string | undefined) => {
      const value = values[name];
      if (value === undefined) return noun === undefined ? "?" : `? ${noun}s`;
      if (typeof value === "string" || typeof value === "number") {
        if (noun === undefined) return String(value);
        return `${value} ${value === 1 || value === "1" ? noun : `${noun}s`}`;
      }
      return value.length > 0 ? value.join(", ") : "none";
    });
}
