/**
 * The integration tests written against test/helpers/nats-server.ts's NATS, run again with
 * POSTWATCH_TEST_NATS=container: each gets NATS in a container that testcontainers starts, stops,
 * restarts and removes, wherever a Docker engine answers (.ci/run starts one). Where no registry
 * can be reached (CI here), the image is the TEST STAND-IN .ci/stand-in-images.sh builds from
 * Debian's nats-server under the Compose file's tag; production pulls the real one.
 *
 * testcontainers' reaper (Ryuk) is an image to pull, so it is off: the tests remove their
 * containers themselves, and none may be left behind.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { docker, dockerUnavailable } from "../helpers/docker.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
/** The ones about NATS itself: it goes away and comes back, it keeps state across restarts. */
const TESTS = [
  "integration/jetstream-publish",
  "integration/nats-outage",
  "integration/detector-restart",
  "integration/alerter-faults",
  "e2e/pipeline",
].map((name) => `dist/test/${name}.test.js`);

const containersLabelled = () =>
  docker(["ps", "--all", "--quiet", "--filter", "label=org.testcontainers=true"]);

describe("integration tests against NATS in a container (testcontainers)", {
  skip: dockerUnavailable(),
}, () => {
  it("pass, and leave no container behind", async (t) => {
    const before = new Set((await containersLabelled()).split("\n").filter(Boolean));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      POSTWATCH_TEST_NATS: "container",
      TESTCONTAINERS_RYUK_DISABLED: "true",
      // Where the containers are reached: on loopback, as they use the host's network. Without it,
      // testcontainers inside a container (as CI is) looks for a bridge network's gateway.
      TESTCONTAINERS_HOST_OVERRIDE: "127.0.0.1",
    };
    delete env.NODE_TEST_CONTEXT; // a test runner of its own, not a child of this one
    const child = spawn(
      process.execPath,
      ["--test", "--test-reporter=tap", "--test-concurrency=2", ...TESTS],
      {
        cwd: ROOT,
        env,
        stdio: ["ignore", "pipe", "pipe"],
        timeout: 10 * 60_000,
      },
    );
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    const count = (what: string) =>
      Number(new RegExp(`^# ${what} (\\d+)$`, "m").exec(output)?.[1] ?? Number.NaN);
    t.diagnostic(`with NATS in containers: ${count("pass")} passed, ${count("fail")} failed`);
    const lines = output.split("\n");
    const failures = lines.flatMap((line, i) => (/^\s*not ok /.test(line) ? lines.slice(i, i + 16) : []));
    assert.equal(code, 0, failures.join("\n") || lines.slice(-40).join("\n"));
    assert.ok(count("pass") >= TESTS.length && count("skipped") === 0, lines.slice(-20).join("\n"));
    const left = (await containersLabelled()).split("\n").filter((id) => id && !before.has(id));
    assert.deepEqual(left, [], "containers the tests left behind");
  });
});
