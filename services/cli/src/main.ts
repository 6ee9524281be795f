#!/usr/bin/env node
/** `postwatch`: the process around the command line. Exit status 0 done, 1 runtime error, 2 usage error. */
import { readFileSync } from "node:fs";
import { CommanderError } from "commander";
import { ConfigError, readConfigSources } from "../../../shared/src/runtime/config.js";
import { NatsServerMissingError } from "../../../shared/src/runtime/embedded-nats.js";
import { NatsUnavailableError, StreamReplicasError } from "../../../shared/src/runtime/nats.js";
import { StoreLockedError } from "../../../shared/src/runtime/store-lock.js";
import { RuleConfigError } from "../../detector/src/engine/rule.js";
import { knownVariables } from "./online.js";
import { buildProgram, type Outcome, UsageError } from "./program.js";

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<Outcome> {
  let outcome: Outcome = 0;
  const program = buildProgram(
    {
      // Read lazily: `--help` must work even when the config file is broken.
      get env() {
        return readConfigSources(env, knownVariables());
      },
      out: (text) => {
        process.stdout.write(text);
      },
      stdinIsTerminal: process.stdin.isTTY === true,
      version: version(),
    },
    (result) => {
      outcome = result;
    },
  );
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // Help and --version asked for: 0. Help shown because no command was given, or any other
    // mistake commander found: a usage error.
    if (error.exitCode === 0) return 0;
    if (error.code === "commander.help") return 2;
    const command = program.commands.find((c) => c.name() === argv[0])?.name();
    throw new UsageError(
      `${error.message.replace(/^error: /, "")} (see postwatch ${command ? `${command} ` : ""}--help)`,
    );
  }
  return outcome;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/** Errors an operator can fix get one line, no stack trace. */
const EXPECTED_ERRORS = [
  ConfigError,
  RuleConfigError,
  NatsServerMissingError,
  NatsUnavailableError,
  StreamReplicasError,
  StoreLockedError,
  UsageError,
];

/** System errors an operator fixes (a file or port): their own message says it all. */
const OPERATOR_ERROR_CODES = new Set(["ENOENT", "EACCES", "EADDRINUSE", "EADDRNOTAVAIL"]);

// `postwatch parse big.log | head` closes our stdout early: that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0);
  throw error;
});

main(process.argv.slice(2), process.env).then(
  (code) => {
    if (code !== "running") process.exitCode = code;
  },
  (error: Error) => {
    const expected =
      // By name too: an error from a service's thread arrives as an Error with the name it had.
      EXPECTED_ERRORS.some((type) => error instanceof type || error.name === type.name) ||
      OPERATOR_ERROR_CODES.has((error as NodeJS.ErrnoException).code ?? "");
    process.stderr.write(
      `postwatch: ${expected ? error.message.replace(/\n\s*/g, "; ") : (error.stack ?? error.message)}\n`,
    );
    // Exit now: whatever failed to start may still hold a timer or socket open.
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
