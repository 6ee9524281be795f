#!/usr/bin/env node
/** `postwatch`: the one entry point. Commands are wired here; their work lives in online.ts and offline.ts. */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError, readConfigSources } from "../../../shared/src/runtime/config.js";
import { NatsServerMissingError } from "../../../shared/src/runtime/embedded-nats.js";
import { NatsUnavailableError } from "../../../shared/src/runtime/nats.js";
import { stopOnSignals } from "../../../shared/src/runtime/service.js";
import { RuleConfigError } from "../../detector/src/engine/rule.js";
import { configCommand } from "./config-command.js";
import { parseCommand, replayCommand, reportCommand, traceCommand } from "./offline.js";
import { runAll, runOne, SERVICES, type ServiceName } from "./online.js";

const HELP = `postwatch — live security monitor for Postfix

Usage:
  postwatch start                  the whole pipeline on this machine: receiver, detector, alerter,
                                   and a private nats-server (from PATH) unless NATS_URL is set
  postwatch receiver               syslog listeners → NATS JetStream (NATS_URL required)
  postwatch detector               events → correlation and rules → alerts (NATS_URL required)
  postwatch alerter                alerts → Slack / webhook (NATS_URL required)
  postwatch replay [--json] [--rules JSON] FILE...|-
                                   run the detection rules over mail logs offline and print the alerts
                                   (--json: one object { "alerts": [...], "stats": {...} })
  postwatch parse [FILE...|-]      print one JSON event per Postfix line (NDJSON); stdin by default
  postwatch trace QUEUEID FILE...  the whole story of one message, across bounces and content filters
  postwatch report [--top N] FILE...
                                   SASL accounts by volume with their IPs and bounce reasons,
                                   failing clients, and pflogsumm-style totals
  postwatch config [SERVICE...]    print the settings each service would start with (defaults, the
                                   config file and the environment applied; secrets hidden)
  postwatch help | --help | --version

Configuration is read from environment variables (see README.md), optionally from the JSON file
named by POSTWATCH_CONFIG_FILE. A bad value stops the service at start with a message naming it.
`;

type Write = (text: string) => void;
const out: Write = (text) => {
  process.stdout.write(text);
};

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number | "running"> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case "help":
    case "--help":
    case "-h":
      out(HELP);
      return command === undefined ? 2 : 0;
    case "--version":
      out(`${version()}\n`);
      return 0;
    case "start": {
      const services = await runAll(readConfigSources(env));
      stopOnSignals(services);
      return "running";
    }
    case "receiver":
    case "detector":
    case "alerter": {
      const services = await runOne(command as ServiceName, readConfigSources(env));
      stopOnSignals(services);
      return "running";
    }
    case "config": {
      const unknown = rest.find((name) => !(name in SERVICES));
      if (unknown !== undefined)
        throw new UsageError(`unknown service "${unknown}" (services: ${Object.keys(SERVICES).join(", ")})`);
      return configCommand(rest as ServiceName[], readConfigSources(env), out);
    }
    case "parse":
      return parseCommand(rest, out);
    case "replay": {
      const { values, positionals } = parseArgs({
        args: [...rest],
        allowPositionals: true,
        options: { json: { type: "boolean", default: false }, rules: { type: "string" } },
      });
      return replayCommand(
        positionals,
        { json: values.json ?? false, rules: values.rules ? parseJsonOption("--rules", values.rules) : {} },
        out,
      );
    }
    case "trace": {
      const [queueId, ...files] = rest;
      if (!queueId || files.length === 0) throw new UsageError("usage: postwatch trace QUEUEID FILE...");
      return traceCommand(queueId, files, out);
    }
    case "report": {
      const { values, positionals } = parseArgs({
        args: [...rest],
        allowPositionals: true,
        options: { top: { type: "string", default: "10" } },
      });
      const top = Number(values.top);
      if (!Number.isInteger(top) || top < 1) throw new UsageError("--top must be a whole number ≥ 1");
      return reportCommand(positionals, { top }, out);
    }
    default:
      throw new UsageError(
        `unknown command "${command}" (commands: start, ${Object.keys(SERVICES).join(", ")}, config, replay, parse, trace, report)`,
      );
  }
}

class UsageError extends Error {
  override readonly name = "UsageError";
}

function parseJsonOption(option: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(`${option} must be JSON, e.g. '{"sasl_bruteforce":{"threshold":10}}'`);
  }
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
      EXPECTED_ERRORS.some((type) => error instanceof type) ||
      OPERATOR_ERROR_CODES.has((error as NodeJS.ErrnoException).code ?? "");
    process.stderr.write(
      `postwatch: ${expected ? error.message.replace(/\n\s*/g, "; ") : (error.stack ?? error.message)}\n`,
    );
    // Exit now: whatever failed to start may still hold a timer or socket open.
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
