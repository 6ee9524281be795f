/** docs/configuration.md lists exactly the variables the config schemas read. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CONFIG_SCHEMAS } from "../../services/cli/src/online.js";
import { documentedNames, undocumented } from "../helpers/reference-docs.js";

describe("docs/configuration.md", () => {
  it("lists every variable a config schema reads, and no other", () => {
    const defined = new Map<string, string>();
    for (const [reader, schema] of Object.entries(CONFIG_SCHEMAS))
      for (const variable of Object.keys(schema.shape))
        if (!defined.has(variable)) defined.set(variable, `read by the ${reader} config schema`);
    const problems = undocumented("docs/configuration.md", defined, documentedNames("docs/configuration.md"));
    assert.deepEqual(problems, [], problems.join("\n"));
  });
});
