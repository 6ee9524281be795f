import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadRules } from "../rules/index.js";
import { compileRule, RuleConfigError, type RuleDefinition } from "./rule.js";

const minimal: RuleDefinition = {
  id: "test_rule",
  description: "test",
  reads: [{ kind: "reject" }],
  keys: ["clientIp"],
  weight: "one",
  defaults: { severity: "info", windowSeconds: 60, threshold: 2, quietSeconds: 60 },
  summary: "{count} from {key}",
  remediation: "none",
};

const issuesOf = (load: () => unknown): readonly string[] => {
  try {
    load();
  } catch (error) {
    assert.ok(error instanceof RuleConfigError);
    return error.issues;
  }
  assert.fail("expected RuleConfigError");
};

describe("rule loading", () => {
  it("merges overrides onto the defaults", () => {
    const rule = loadRules({ sasl_bruteforce: { threshold: 10, windowSeconds: 300 } }).find(
      (r) => r.id === "sasl_bruteforce",
    );
    assert.equal(rule?.settings.threshold, 10);
    assert.equal(rule?.settings.windowSeconds, 300);
    assert.equal(rule?.settings.quietSeconds, 900, "untouched defaults stay");
  });

  it("names the rule and field of a bad value", () => {
    const issues = issuesOf(() => loadRules({ sasl_bruteforce: { threshold: 0 } }));
    assert.equal(issues.length, 1);
    assert.match(issues[0] ?? "", /^rule sasl_bruteforce: threshold: /);
  });

  it("rejects unknown rules and unknown fields, reporting all problems at once", () => {
    const issues = issuesOf(() => loadRules({ sasl_bruteforse: {}, sasl_spray: { treshold: 3 } }));
    assert.equal(issues.length, 2);
    assert.match(issues[0] ?? "", /^rule sasl_bruteforse: unknown rule/);
    assert.match(
      issues[1] ?? "",
      /^rule sasl_spray: unknown setting "treshold" \(settings: enabled, .*threshold/,
    );
  });

  it("rejects a non-object configuration", () => {
    assert.throws(() => loadRules([1]), RuleConfigError);
    assert.throws(() => loadRules({ sasl_spray: 5 }), /rule sasl_spray: settings must be an object/);
  });

  it("fails fast on an unknown summary placeholder", () => {
    const issues = issuesOf(() => compileRule({ ...minimal, summary: "{count} from {ip}" }));
    assert.deepEqual(issues, ["rule test_rule: summary: unknown placeholder {ip}"]);
  });

  it("refuses a distinct threshold the sketch cannot count up to", () => {
    const spray = { ...minimal, distinct: "clientIp", thresholdOn: "distinct" } as const;
    const issues = issuesOf(() => compileRule(spray, { threshold: 500, maxDistinct: 100 }));
    assert.match(issues[0] ?? "", /threshold: 500 exceeds maxDistinct 100/);
  });

  it("can disable a rule", () => {
    const rule = loadRules({ sasl_spray: { enabled: false } }).find((r) => r.id === "sasl_spray");
    assert.equal(rule?.settings.enabled, false);
  });
});
