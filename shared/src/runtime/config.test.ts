import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { z } from "zod";
import {
  ConfigError,
  env,
  loadConfig,
  natsConfig,
  natsSettings,
  natsUrls,
  readConfigSources,
} from "./config.js";

const schema = z.object({
  NATS_URL: natsUrls(),
  SYSLOG_UDP_PORT: env.port(5514),
  FLAG: env.boolean(false),
  LOG_LEVEL: env.logLevel().default("info"),
});

const KNOWN = new Set(Object.keys(schema.shape));

describe("loadConfig", () => {
  it("applies defaults and coerces values", () => {
    assert.deepEqual(loadConfig(schema, { NATS_URL: "nats://a:4222,nats://b:4222", FLAG: "yes" }), {
      NATS_URL: ["nats://a:4222", "nats://b:4222"],
      SYSLOG_UDP_PORT: 5514,
      FLAG: true,
      LOG_LEVEL: "info",
    });
  });

  it("treats an empty variable as unset", () => {
    assert.equal(
      loadConfig(schema, { NATS_URL: "nats://a:4222", SYSLOG_UDP_PORT: "" }).SYSLOG_UDP_PORT,
      5514,
    );
  });

  it("names every bad variable, with the value given", () => {
    assert.throws(
      () => loadConfig(schema, { NATS_URL: "http://x", SYSLOG_UDP_PORT: "70000", LOG_LEVEL: "loud" }),
      (error: Error) =>
        error instanceof ConfigError &&
        /NATS_URL: must be nats:\/\/host:port/.test(error.message) &&
        /SYSLOG_UDP_PORT: must be 1 to 65535, or 0 \(off\) \(got "70000"\)/.test(error.message) &&
        /LOG_LEVEL: must be one of/.test(error.message),
    );
  });

  it("reads a config file, with the environment winning over it", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "postwatch-config-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "postwatch.json");
    writeFileSync(file, JSON.stringify({ NATS_URL: "nats://file:4222", SYSLOG_UDP_PORT: 1514 }));
    const config = loadConfig(
      schema,
      readConfigSources({ POSTWATCH_CONFIG_FILE: file, NATS_URL: "nats://env:4222" }, KNOWN),
    );
    assert.deepEqual(config.NATS_URL, ["nats://env:4222"]);
    assert.equal(config.SYSLOG_UDP_PORT, 1514);
  });

  it("names every unknown key of the config file, and the variable it may have meant", (t) => {
    const dir = mkdtempSync(join(tmpdir(), "postwatch-config-"));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, "postwatch.json");
    writeFileSync(file, JSON.stringify({ SYSLOG_UDP_PRT: 1514, FLAG: true, COLOUR: "blue" }));
    assert.throws(
      () => readConfigSources({ POSTWATCH_CONFIG_FILE: file }, KNOWN),
      (error: Error) =>
        error instanceof ConfigError &&
        error.problems.length === 2 &&
        error.problems[0] ===
          `POSTWATCH_CONFIG_FILE: ${file}: unknown setting "SYSLOG_UDP_PRT" (did you mean SYSLOG_UDP_PORT?)` &&
        error.problems[1] === `POSTWATCH_CONFIG_FILE: ${file}: unknown setting "COLOUR"`,
    );
  });

  it("says what 0 means for a port that takes it as any free port", () => {
    const metrics = z.object({ METRICS_PORT: env.port(9464, "any free port") });
    assert.throws(
      () => loadConfig(metrics, { METRICS_PORT: "99999" }),
      /^ConfigError: invalid configuration: METRICS_PORT: must be 1 to 65535, or 0 \(any free port\) \(got "99999"\)$/,
    );
  });

  it("says which file could not be read", () => {
    assert.throws(
      () => readConfigSources({ POSTWATCH_CONFIG_FILE: "/nonexistent.json" }, KNOWN),
      /POSTWATCH_CONFIG_FILE: cannot read \/nonexistent\.json/,
    );
  });

  it("keeps one copy of each stream unless NATS_STREAM_REPLICAS says 1 to 5", () => {
    const nats = z.object(natsConfig());
    const replicas = (value?: string) =>
      loadConfig(nats, { NATS_URL: "nats://a:4222", NATS_STREAM_REPLICAS: value }).NATS_STREAM_REPLICAS;
    assert.equal(replicas(), 1);
    assert.equal(replicas("3"), 3);
    assert.equal(replicas("5"), 5);
    assert.throws(() => replicas("0"), /NATS_STREAM_REPLICAS: must be 1 to 5 \(1 on a single NATS server/);
    assert.throws(() => replicas("6"), /NATS_STREAM_REPLICAS: must be 1 to 5 \(JetStream keeps at most 5/);
    assert.throws(() => replicas("2.5"), /NATS_STREAM_REPLICAS: must be a whole number/);
    assert.throws(() => replicas("three"), /NATS_STREAM_REPLICAS: must be a number of copies/);
  });

  it("lifts credentials out of NATS_URL, which nats.js would ignore there, unless NATS_USER is set", () => {
    const nats = z.object(natsConfig());
    const settings = (variables: Record<string, string>) =>
      natsSettings(loadConfig(nats, variables), "postwatch-test");
    const inUrl = settings({ NATS_URL: "nats://svc:p%40ss@a:4222,nats://svc:p%40ss@b:4222" });
    assert.deepEqual(inUrl.servers, ["nats://a:4222", "nats://b:4222"]);
    assert.deepEqual([inUrl.user, inUrl.password, inUrl.token], ["svc", "p@ss", undefined]);
    const token = settings({ NATS_URL: "nats://s3cr3t-token@a:4222" });
    assert.deepEqual(
      [token.servers, token.user, token.token],
      [["nats://a:4222"], undefined, "s3cr3t-token"],
    );
    const explicit = settings({
      NATS_URL: "nats://svc:old@a:4222",
      NATS_USER: "other",
      NATS_PASSWORD: "new",
    });
    assert.deepEqual(
      [explicit.servers, explicit.user, explicit.password],
      [["nats://a:4222"], "other", "new"],
    );
    const plain = settings({ NATS_URL: "a:4222" });
    assert.deepEqual([plain.servers, plain.user, plain.token], [["a:4222"], undefined, undefined]);
    assert.throws(
      () => settings({ NATS_URL: "nats://svc:one@a:4222,nats://svc:two@b:4222" }),
      /NATS_URL: must carry the same user and password \(or token\) in every URL/,
    );
  });
});
