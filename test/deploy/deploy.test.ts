/**
 * The deployment files (deploy/, helm/) against the code they deploy: the Grafana dashboard and the
 * Prometheus rules query only metrics the services define, every environment variable the Compose
 * file and the Helm chart set is one docs/configuration.md documents (a typo there would be silently ignored
 * by the services), and promtool accepts the alerting rules. No network; well under a second.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { composeCommand } from "../helpers/docker.js";
import { documentedNames } from "../helpers/reference-docs.js";

/** The repository root, from dist/test/deploy/deploy.test.js. */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");
const PROMTOOL = process.env.PROMTOOL_BIN ?? "promtool";

/** Files where the services define their metrics, read as text. */
function metricSources(): string[] {
  const files = readdirSync(join(ROOT, "services"))
    .map((service) => `services/${service}/src/metrics.ts`)
    .filter((file) => existsSync(join(ROOT, file)));
  files.push("services/detector/src/postfix-metrics.ts");
  return files;
}

function definedMetrics(): Set<string> {
  const names = new Set<string>();
  for (const file of metricSources())
    for (const match of read(file).matchAll(/"((?:postfix|postwatch)_[a-z0-9_]+)"/g))
      names.add(match[1] as string);
  return names;
}

/** postfix_* and postwatch_* names a PromQL text uses (a histogram as name_bucket, name_sum, name_count). */
function usedMetrics(promql: string): Set<string> {
  return new Set([...promql.matchAll(/\b((?:postfix|postwatch)_[a-z0-9_]+)/g)].map((m) => m[1] as string));
}

function undefinedMetrics(promql: string, defined: Set<string>): string[] {
  return [...usedMetrics(promql)].filter(
    (name) => !defined.has(name) && !defined.has(name.replace(/_(bucket|sum|count)$/, "")),
  );
}

interface Panel {
  type: string;
  title?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

function dashboardQueries(dashboard: {
  panels?: Panel[];
  templating?: { list?: { definition?: string }[] };
}): string[] {
  const exprs: string[] = [];
  const walk = (panels: Panel[] | undefined) => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? []) if (target.expr) exprs.push(target.expr);
      walk(panel.panels);
    }
  };
  walk(dashboard.panels);
  for (const variable of dashboard.templating?.list ?? [])
    if (variable.definition) exprs.push(variable.definition);
  return exprs;
}

/** Variables docs/configuration.md lists (which a test holds to the config schemas). */
const documentedVariables = () => documentedNames("docs/configuration.md");

/** Environment-variable-shaped tokens (upper case with an underscore) in a file, comments included. */
function variableTokens(text: string): Set<string> {
  return new Set([...text.matchAll(/\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b/g)].map((m) => m[1] as string));
}

/** Variables of the deployment itself, not of postwatch: Compose's and Grafana's own. */
const DEPLOYMENT_ONLY = new Set(["COMPOSE_PROJECT_NAME", "POSTWATCH_IMAGE", "GRAFANA_ADMIN_PASSWORD"]);
const notPostwatch = (name: string) => DEPLOYMENT_ONLY.has(name) || name.startsWith("GF_");

/** Upper-case names that are not variables: the JetStream stream names (shared/src/contracts/subjects.ts). */
function streamNames(): Set<string> {
  const text = read("shared/src/contracts/subjects.ts");
  return new Set([...text.matchAll(/"([A-Z][A-Z0-9_]+)"/g)].map((m) => m[1] as string));
}

function helmFiles(): string[] {
  const templates = readdirSync(join(ROOT, "helm/postwatch/templates")).map(
    (file) => `helm/postwatch/templates/${file}`,
  );
  return ["helm/postwatch/values.yaml", ...templates];
}

describe("deployment files", () => {
  const defined = definedMetrics();

  it("finds the metric definitions it checks against", () => {
    for (const name of [
      "postfix_smtpd_sasl_authentication_failures_total",
      "postfix_delivery_delay_seconds",
      "postwatch_receiver_events_dropped_total",
      "postwatch_detector_consumer_pending_events",
      "postwatch_alerter_sink_requests_total",
    ])
      assert.ok(defined.has(name), `${name} is defined in ${metricSources().join(", ")}`);
  });

  it("the Grafana dashboard parses and queries only metrics the code defines", () => {
    const dashboard = JSON.parse(read("deploy/grafana/dashboards/postwatch.json"));
    assert.equal(dashboard.uid, "postwatch");
    const exprs = dashboardQueries(dashboard);
    assert.ok(exprs.length >= 20, `the dashboard has its queries (${exprs.length})`);
    assert.deepEqual(undefinedMetrics(exprs.join("\n"), defined), []);
    const all = exprs.join("\n");
    for (const needed of [
      "postfix_smtpd_sasl_authentication_failures_total",
      "postfix_smtpd_rejects_total",
      "postfix_deliveries_total",
      "histogram_quantile(0.95, sum by (le, stage) (rate(postfix_delivery_delay_seconds_bucket",
      "postwatch_detector_alerts_total",
      "postwatch_detector_firing_alerts",
      "postwatch_receiver_lines_total",
      "postwatch_receiver_events_dropped_total",
      "postwatch_receiver_framing_errors_total",
      "postwatch_detector_tracked_keys",
      "postwatch_detector_key_evictions_total",
      "postwatch_detector_consumer_pending_events",
      "postwatch_alerter_sink_requests_total",
    ])
      assert.ok(all.includes(needed), `the dashboard queries ${needed}`);
    const ids = new Set<number>();
    const walk = (panels: (Panel & { id: number })[]) => {
      for (const panel of panels) {
        assert.ok(!ids.has(panel.id), `panel id ${panel.id} is unique`);
        ids.add(panel.id);
        walk((panel.panels ?? []) as (Panel & { id: number })[]);
      }
    };
    walk(dashboard.panels);
  });

  it("the Prometheus alerting rules query only metrics the code defines", () => {
    assert.deepEqual(undefinedMetrics(read("deploy/prometheus/postwatch-rules.yml"), defined), []);
  });

  it("every variable the Compose file sets is documented in docs/configuration.md", () => {
    const documented = documentedVariables();
    assert.ok(
      documented.has("NATS_URL") && documented.has("SLACK_WEBHOOK_URL"),
      "docs/configuration.md is read",
    );
    for (const file of ["deploy/docker-compose.yml", "deploy/.env.example"]) {
      const unknown = [...variableTokens(read(file))].filter(
        (name) => !notPostwatch(name) && !documented.has(name),
      );
      assert.deepEqual(unknown, [], `${file} names variables docs/configuration.md does not document`);
    }
  });

  it("every variable the Helm chart sets is documented in docs/configuration.md", () => {
    const documented = documentedVariables();
    const streams = streamNames();
    assert.ok(streams.has("POSTWATCH_EVENTS"), "the stream names are read");
    const seen = new Set<string>();
    for (const file of helmFiles()) {
      const tokens = [...variableTokens(read(file))].filter((name) => !streams.has(name));
      for (const name of tokens) seen.add(name);
      const unknown = tokens.filter((name) => !documented.has(name));
      assert.deepEqual(unknown, [], `${file} names variables docs/configuration.md does not document`);
    }
    for (const name of ["NATS_URL", "SLACK_WEBHOOK_URL", "WEBHOOK_URL", "SYSLOG_TCP_PORT", "DETECTOR_RULES"])
      assert.ok(seen.has(name), `the chart sets ${name}`);
  });

  it("Compose accepts the Compose file with .env.example's values", () => {
    // Neither Compose client needs an engine for `config`.
    const [command, ...prefix] = composeCommand();
    const config = spawnSync(
      command as string,
      [...prefix, "--env-file", "deploy/.env.example", "-f", "deploy/docker-compose.yml", "config"],
      { cwd: ROOT, encoding: "utf8", timeout: 30_000 },
    );
    if (config.error && (config.error as NodeJS.ErrnoException).code === "ENOENT")
      assert.fail("no Compose client: install Debian's docker-compose (or the docker compose plugin)");
    assert.equal(config.status, 0, `compose config:\n${config.stderr}`);
    for (const service of [
      "postwatch-receiver",
      "postwatch-detector",
      "postwatch-alerter",
      "nats",
      "prometheus",
    ])
      assert.match(config.stdout, new RegExp(`^  ${service}:$`, "m"), `the Compose file runs ${service}`);
  });

  it("promtool accepts the alerting rules and their unit tests pass", () => {
    const check = spawnSync(PROMTOOL, ["check", "rules", "deploy/prometheus/postwatch-rules.yml"], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 10_000,
    });
    if (check.error && (check.error as NodeJS.ErrnoException).code === "ENOENT")
      assert.fail(`${PROMTOOL} not found: install Debian's prometheus package (or set PROMTOOL_BIN)`);
    assert.equal(check.status, 0, `promtool check rules:\n${check.stdout}${check.stderr}`);
    const test = spawnSync(PROMTOOL, ["test", "rules", "postwatch-rules.test.yml"], {
      cwd: join(ROOT, "deploy/prometheus"),
      encoding: "utf8",
      timeout: 10_000,
    });
    assert.equal(test.status, 0, `promtool test rules:\n${test.stdout}${test.stderr}`);
  });
});
