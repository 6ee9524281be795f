import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import { z } from "zod";
import { generateMixedLog } from "../../../test/generator/mixed-log.js";
import { lineToEvent } from "../pipeline/lines.js";
import { Correlator } from "../postfix/correlate.js";
import { acceptsAsIs } from "./accepts-as-is.js";
import { PostfixEvent } from "./events.js";

const CORPUS = new URL("../../../../test/fixtures/postfix-corpus.log", import.meta.url);

/** Events as the detector reads them: parsed, correlated (message summaries too), through JSON. */
function corpusEvents(): unknown[] {
  const lines = [
    ...readFileSync(CORPUS, "utf8").split("\n"),
    ...generateMixedLog({ lines: 20_000, seed: 3, format: "rfc3339" }),
  ];
  const correlator = new Correlator({ summarizeAt: "first_pass" });
  const events: unknown[] = [];
  for (const line of lines) {
    const outcome = lineToEvent(line, { referenceTime: Date.UTC(2026, 11, 31), fallbackHost: "h" });
    if (outcome.type !== "event") continue;
    for (const event of correlator.push(outcome.event, outcome.atMs))
      events.push(JSON.parse(JSON.stringify(event)));
  }
  for (const event of correlator.sweep(Number.POSITIVE_INFINITY))
    events.push(JSON.parse(JSON.stringify(event)));
  return events;
}

const isEventAsIs = acceptsAsIs(PostfixEvent);
const events = corpusEvents();

/** A JSON value in the places a mutation puts it. */
const jsonValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.double(),
  fc.string(),
  fc.constantFrom("connect", "message", "delivered", "", "__proto__", 1, 1.5, 2 ** 53, -0),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }),
);

/** One change somewhere in an event, nested objects and arrays included; then through JSON, as the detector reads it. */
function mutate(event: unknown, path: readonly number[], value: unknown, how: number): unknown {
  const copy = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
  let target: Record<string, unknown> = copy;
  for (const step of path) {
    const keys = Object.keys(target);
    const next = target[keys[step % Math.max(1, keys.length)] as string];
    if (typeof next !== "object" || next === null) break;
    target = next as Record<string, unknown>;
  }
  const keys = Object.keys(target);
  const key = keys[(path[0] ?? 0) % Math.max(1, keys.length)] ?? "kind";
  if (how === 0) delete target[key];
  else if (how === 1) target[key] = value;
  else target[typeof value === "string" ? value : "extra"] = value;
  return JSON.parse(JSON.stringify(copy));
}

describe("acceptsAsIs: zod's answer, fast, for values zod returns unchanged", () => {
  it("takes every event of the corpus and the mixed log as is, so the detector's fast path is the one used", () => {
    assert.ok(events.length > 10_000);
    const kinds = new Set<string>();
    for (const event of events) {
      assert.ok(isEventAsIs(event), `not taken as is: ${JSON.stringify(event)}`);
      kinds.add((event as { kind: string }).kind);
    }
    assert.ok(kinds.size >= 20, `kinds: ${[...kinds].join(", ")}`);
  });

  it("never takes a mutated event zod would reject or change", () => {
    fc.assert(
      fc.property(
        fc.nat(events.length - 1),
        fc.array(fc.nat(40), { minLength: 1, maxLength: 3 }),
        jsonValue,
        fc.nat(2),
        (index, path, value, how) => {
          const mutated = mutate(events[index], path, value, how);
          if (!isEventAsIs(mutated)) return;
          const parsed = PostfixEvent.safeParse(mutated);
          assert.ok(parsed.success, `taken as is, zod rejects: ${JSON.stringify(mutated)}`);
          assert.deepStrictEqual(parsed.data, mutated);
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it("rejects what zod rejects, strips, or would fill in", () => {
    const endpoint = { host: "mx", ip: "192.0.2.1" };
    const event = events.find((e) => (e as { kind: string }).kind === "connect") as Record<string, unknown>;
    for (const bad of [
      { ...event, client: { ...endpoint, port: 1.5 } },
      { ...event, client: { ...endpoint, port: 2 ** 53 } },
      { ...event, pid: "12" },
      { ...event, kind: "nonesuch" },
      { ...event, unknownField: 1 },
      { ...event, client: { ...endpoint, extra: "x" } },
      [event],
      null,
      "connect",
    ])
      assert.equal(isEventAsIs(bad), false, JSON.stringify(bad));
    assert.equal(isEventAsIs({ ...event, pid: null }), true);
  });

  it("agrees with zod on numbers, its integer formats and bounds included", () => {
    const schemas = [
      z.number(),
      z.int(),
      z.number().int(),
      z.int().nonnegative(),
      z.number().positive(),
      z.number().min(-1.5).max(2),
      z.number().lt(3).gt(-3),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...schemas.keys()),
        fc.oneof(fc.double(), fc.integer(), fc.constantFrom(0, -1, 2 ** 53, 1.5, -1.5, 2, 3, "1", null)),
        (index, value) => {
          const schema = schemas[index] as z.ZodType;
          const parsed = schema.safeParse(value);
          if (acceptsAsIs(schema)(value)) assert.ok(parsed.success, `${index}: ${value}`);
          else if (typeof value === "number" && Number.isFinite(value))
            assert.ok(!parsed.success, `${index}: ${value} is a number zod takes as is`);
        },
      ),
      { numRuns: 5_000 },
    );
  });

  it("answers false for schema features it does not compile, leaving them to zod", () => {
    for (const schema of [
      z.string().min(1),
      z.email(),
      z.coerce.string(),
      z.number().multipleOf(2),
      z.string().default("x"),
      z.string().transform((s) => s.length),
      z.object({ a: z.string() }).catchall(z.string()),
      z.object({ a: z.string() }).strict(),
      z.record(z.string().min(1), z.string()),
      z.array(z.string()).min(1),
      z.xor([z.string(), z.string()]),
    ] as z.ZodType[])
      assert.equal(acceptsAsIs(schema)("x"), false);
    assert.equal(acceptsAsIs(z.object({ a: z.string() }).strict())({ a: "x" }), false);
    assert.equal(acceptsAsIs(z.array(z.string()).min(1))([]), false);
    assert.equal(acceptsAsIs(z.record(z.string(), z.number()))(JSON.parse('{"__proto__":1}')), false);
  });
});
