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
 */
import type { z } from "zod";

export type AsIsCheck = (value: unknown) => boolean;

interface Def {
  type: string;
  checks?: readonly { _zod: { def: { check: string; format?: string } } }[];
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  element?: z.ZodType;
  keyType?: z.ZodType;
  valueType?: z.ZodType;
  options?: readonly z.ZodType[];
  discriminator?: string;
  values?: readonly unknown[];
  entries?: Record<string, unknown>;
}

const never: AsIsCheck = () => false;

const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** A JSON object as JSON.parse makes them: not null, not an array. */
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

export function acceptsAsIs(schema: z.ZodType): AsIsCheck {
  const def = defOf(schema);
  const checks = def.checks ?? [];
  switch (def.type) {
    case "string":
      return checks.length === 0 ? (value) => typeof value === "string" : never;
    case "boolean":
      return (value) => typeof value === "boolean";
    case "number": {
      // zod rejects NaN and ±Infinity; `.int()` is the safe-integer format.
      if (checks.length === 0) return (value) => typeof value === "number" && Number.isFinite(value);
      const [only] = checks;
      return checks.length === 1 &&
        only?._zod.def.check === "number_format" &&
        only._zod.def.format === "safeint"
        ? (value) => Number.isSafeInteger(value)
        : never;
    }
    case "literal":
    case "enum": {
      const allowed = new Set(def.type === "literal" ? def.values : Object.values(def.entries ?? {}));
      return (value) => allowed.has(value);
    }
    case "optional": {
      const inner = acceptsAsIs(def.innerType as z.ZodType);
      return (value) => value === undefined || inner(value);
    }
    case "nullable": {
      const inner = acceptsAsIs(def.innerType as z.ZodType);
      return (value) => value === null || inner(value);
    }
    case "array": {
      const element = acceptsAsIs(def.element as z.ZodType);
      return (value) => Array.isArray(value) && value.every(element);
    }
    case "record":
      return recordCheck(def);
    case "object":
      return def.catchall === undefined ? objectCheck(def.shape ?? {}) : never;
    case "union":
      return unionCheck(def);
    default:
      return never;
  }
}

function recordCheck(def: Def): AsIsCheck {
  const keyDef = defOf(def.keyType as z.ZodType);
  if (keyDef.type !== "string" || (keyDef.checks ?? []).length > 0) return never;
  const element = acceptsAsIs(def.valueType as z.ZodType);
  return (value) => {
    if (!isPlainObject(value)) return false;
    for (const key in value) {
      // zod's copy would set the prototype rather than keep the key.
      if (key === "__proto__" || !Object.hasOwn(value, key) || !element(value[key])) return false;
    }
    return true;
  };
}

function objectCheck(shape: Record<string, z.ZodType>): AsIsCheck {
  const fields = Object.entries(shape).map(([key, field]) => [key, acceptsAsIs(field)] as const);
  const known = new Set(Object.keys(shape));
  return (value) => {
    if (!isPlainObject(value)) return false;
    // zod strips a key its shape does not name: such a value is not returned as is.
    for (const key in value) if (!known.has(key)) return false;
    for (const [key, check] of fields) if (!check(value[key])) return false;
    return true;
  };
}

function unionCheck(def: Def): AsIsCheck {
  const options = def.options ?? [];
  const discriminator = def.discriminator;
  if (discriminator === undefined) {
    const checks = options.map(acceptsAsIs);
    return (value) => checks.some((check) => check(value));
  }
  // A discriminated union: the option whose literal the discriminator holds decides alone.
  const byValue = new Map<unknown, AsIsCheck>();
  for (const option of options) {
    const tag = defOf(option).shape?.[discriminator];
    const tagDef = tag === undefined ? undefined : defOf(tag);
    if (tagDef?.type !== "literal") return never;
    const check = acceptsAsIs(option);
    for (const literal of tagDef.values ?? []) byValue.set(literal, check);
  }
  return (value) => isPlainObject(value) && (byValue.get(value[discriminator]) ?? never)(value);
}
