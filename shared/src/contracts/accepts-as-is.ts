/**
 * A fast path in front of a contract's zod schema, for the detector's hot loop: `acceptsAsIs(schema)`
 * compiles, once, a predicate that is true only for a value the schema accepts and would return
 * unchanged (no unknown key to strip, no default to fill, no transform). The caller keeps the value
 * itself and skips zod's walk and copy; for anything else (an unknown key, a wrong type, a schema
 * feature this compiler does not know) the predicate is false and the caller asks zod, which
 * accepts, strips or rejects as it always did. So a false answer is always safe, and a true one
 * never lets through a value zod would reject (shared/src/contracts/accepts-as-is.test.ts checks both
 * against zod on mutated events).
 *
 * It reads zod's schema definitions (`_zod.def`), so it is derived from the contract, never a copy.
 * Like zod itself, it compiles to JavaScript source (one function per object, record and union, with
 * property reads and `switch`es inline): a tree of closures cost as much again as JSON.parse.
 * The source holds only the schema's own names and literals, each written with JSON.stringify.
 */
import type { z } from "zod";

export type AsIsCheck = (value: unknown) => boolean;

interface CheckDef {
  check?: string;
  format?: string;
  value?: unknown;
  inclusive?: boolean;
}

interface Def extends CheckDef {
  type: string;
  checks?: readonly { _zod: { def: CheckDef } }[];
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  options?: readonly z.ZodType[];
  discriminator?: string;
  values?: readonly unknown[];
  entries?: Record<string, unknown>;
}

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/**
 * The definition keys each compiled type may have. Any other (a coercion, a default, a format such
 * as z.email()'s, a length check, z.xor's `inclusive: false`) means a rule this compiler does not
 * know: that schema answers false, and zod decides.
 */
const KNOWN_KEYS: Record<string, readonly string[]> = {
  string: ["type"],
  boolean: ["type"],
  // z.int() is a number whose own definition is its safe-integer check.
  number: ["type", "checks", "check", "format", "abort"],
  literal: ["type", "values"],
  enum: ["type", "entries"],
  optional: ["type", "innerType"],
  nullable: ["type", "innerType"],
  array: ["type", "element"],
  record: ["type", "keyType", "valueType"],
  object: ["type", "shape"],
  union: ["type", "options", "discriminator", "inclusive"],
};

const onlyKnownKeys = (def: Def) => {
  const known = KNOWN_KEYS[def.type];
  return (
    known !== undefined &&
    Object.entries(def).every(([key, value]) => value === undefined || known.includes(key)) &&
    // An exclusive union (z.xor) fails when two options match; a discriminated one, also marked
    // exclusive, cannot have two (its option is chosen by the discriminator's distinct literals).
    (def.type !== "union" || def.inclusive !== false || def.discriminator !== undefined)
  );
};

/** The expression for one of a number's checks, or undefined for a check this compiler does not know. */
function numberCheck(check: CheckDef, v: string): string | undefined {
  if (check.check === "number_format")
    return check.format === "safeint" ? `Number.isSafeInteger(${v})` : undefined;
  if (typeof check.value !== "number" || !Number.isFinite(check.value)) return undefined;
  if (check.check === "greater_than") return `${v} ${check.inclusive ? ">=" : ">"} ${check.value}`;
  if (check.check === "less_than") return `${v} ${check.inclusive ? "<=" : "<"} ${check.value}`;
  return undefined;
}

/** Literals written into the source: JSON.stringify gives the JavaScript literal of each. */
const isWritable = (value: unknown) =>
  typeof value === "string" ||
  typeof value === "boolean" ||
  (typeof value === "number" && Number.isFinite(value));

const PLAIN_OBJECT = (v: string) => `typeof ${v} === "object" && ${v} !== null && !Array.isArray(${v})`;

class Compiler {
  private readonly functions: string[] = [];
  private readonly names = new Map<z.ZodType, string>();

  /** The source of a function body that returns the predicate for `schema`. */
  program(schema: z.ZodType): string {
    const test = this.test(schema, "value");
    return `"use strict";\n${this.functions.join("\n")}\nreturn function acceptsAsIs(value) {\n  return ${test};\n};`;
  }

  /** A boolean expression over the variable `v`: true when zod would return its value as is. */
  private test(schema: z.ZodType, v: string): string {
    const def = defOf(schema);
    if (!onlyKnownKeys(def)) return "false";
    switch (def.type) {
      case "string":
        return `typeof ${v} === "string"`;
      case "boolean":
        return `typeof ${v} === "boolean"`;
      case "number": {
        // zod rejects NaN and ±Infinity; `.int()` is the safe-integer format.
        const checks = [
          ...(def.check === undefined ? [] : [def]),
          ...(def.checks ?? []).map((c) => c._zod.def),
        ];
        const tests = checks.map((check) => numberCheck(check, v));
        if (tests.some((test) => test === undefined)) return "false";
        return `(${[`typeof ${v} === "number" && Number.isFinite(${v})`, ...tests].join(" && ")})`;
      }
      case "literal":
      case "enum": {
        const allowed = def.type === "literal" ? (def.values ?? []) : Object.values(def.entries ?? {});
        if (allowed.length === 0 || !allowed.every(isWritable)) return "false";
        return `(${allowed.map((value) => `${v} === ${JSON.stringify(value)}`).join(" || ")})`;
      }
      case "optional":
        return `(${v} === undefined || ${this.test(def.innerType as z.ZodType, v)})`;
      case "nullable":
        return `(${v} === null || ${this.test(def.innerType as z.ZodType, v)})`;
      case "array":
        return `(Array.isArray(${v}) && ${v}.every((e) => ${this.test(def.element as z.ZodType, "e")}))`;
      case "record":
        return `${this.functionFor(schema, (r) => this.record(def, r))}(${v})`;
      case "object":
        return `${this.functionFor(schema, (o) => this.object(def.shape ?? {}, o))}(${v})`;
      case "union":
        return `${this.functionFor(schema, (u) => this.union(def, u))}(${v})`;
      default:
        return "false";
    }
  }

  private record(def: Def, v: string): string {
    const keyDef = defOf(def.keyType as z.ZodType);
    if (keyDef.type !== "string" || !onlyKnownKeys(keyDef)) return "return false;";
    return [
      `if (!(${PLAIN_OBJECT(v)})) return false;`,
      // zod's copy would set the prototype rather than keep a `__proto__` key.
      `for (const key in ${v}) {`,
      `  if (key === "__proto__" || !Object.hasOwn(${v}, key)) return false;`,
      `  const x = ${v}[key];`,
      `  if (!(${this.test(def.valueType as z.ZodType, "x")})) return false;`,
      "}",
      "return true;",
    ].join("\n");
  }

  private object(shape: Record<string, z.ZodType>, v: string): string {
    const keys = Object.keys(shape);
    return [
      `if (!(${PLAIN_OBJECT(v)})) return false;`,
      // zod strips a key its shape does not name: such a value is not returned as is.
      `for (const key in ${v}) switch (key) {`,
      ...keys.map((key) => `  case ${JSON.stringify(key)}:`),
      `    continue;`,
      "  default:",
      "    return false;",
      "}",
      "let x;",
      ...keys.flatMap((key) => [
        `x = ${v}[${JSON.stringify(key)}];`,
        `if (!(${this.test(shape[key] as z.ZodType, "x")})) return false;`,
      ]),
      "return true;",
    ].join("\n");
  }

  private union(def: Def, v: string): string {
    const options = def.options ?? [];
    const discriminator = def.discriminator;
    if (discriminator === undefined)
      return `return ${options.map((option) => this.test(option, v)).join(" || ") || "false"};`;
    // A discriminated union: the option whose literal the discriminator holds decides alone.
    const cases: string[] = [];
    const seen = new Set<unknown>();
    for (const option of options) {
      const tag = defOf(option).shape?.[discriminator];
      const tagDef = tag === undefined ? undefined : defOf(tag);
      const literals = tagDef?.type === "literal" ? (tagDef.values ?? []) : [];
      if (literals.length === 0 || !literals.every(isWritable) || literals.some((l) => seen.has(l)))
        return "return false;";
      for (const literal of literals) seen.add(literal);
      cases.push(
        ...literals.map((literal) => `  case ${JSON.stringify(literal)}:`),
        `    return ${this.test(option, v)};`,
      );
    }
    return [
      `if (!(${PLAIN_OBJECT(v)})) return false;`,
      `switch (${v}[${JSON.stringify(discriminator)}]) {`,
      ...cases,
      "  default:",
      "    return false;",
      "}",
    ].join("\n");
  }

  /** The name of a function of one argument with this body, compiled once per schema object. */
  private functionFor(schema: z.ZodType, body: (argument: string) => string): string {
    const known = this.names.get(schema);
    if (known !== undefined) return known;
    const name = `check${this.names.size}`;
    this.names.set(schema, name);
    this.functions.push(`function ${name}(v) {\n${body("v")}\n}`);
    return name;
  }
}

export function acceptsAsIs(schema: z.ZodType): AsIsCheck {
  return new Function(new Compiler().program(schema))() as AsIsCheck;
}
