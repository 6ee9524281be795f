/**
 * Configuration loading shared by every service: one zod schema per service whose keys are the
 * environment variable names. Values come from an optional JSON file (POSTWATCH_CONFIG_FILE) with
 * the environment taking precedence. Every problem is reported at once, each naming its variable.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";

/** Every problem found, each naming its variable; reported together so one start shows them all. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: readonly string[];
  constructor(problems: string | readonly string[]) {
    const list = typeof problems === "string" ? [problems] : problems;
    super(`invalid configuration: ${list.join("; ")}`);
    this.problems = list;
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the optional config file named by POSTWATCH_CONFIG_FILE; file values are strings like env
 * values. A key that is not one of `known` (every variable some command reads) is a typo that
 * would otherwise be silently ignored, so it is an error.
 */
export function readConfigSources(env: Env, known: ReadonlySet<string>): Env {
  const path = env.POSTWATCH_CONFIG_FILE;
  if (!path) return env;
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError(`POSTWATCH_CONFIG_FILE: cannot read ${path}: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`POSTWATCH_CONFIG_FILE: ${path} must hold a JSON object of VARIABLE: value`);
  }
  const unknown = Object.keys(parsed).filter((key) => key === "POSTWATCH_CONFIG_FILE" || !known.has(key));
  if (unknown.length > 0)
    throw new ConfigError(
      unknown.map(
        (key) => `POSTWATCH_CONFIG_FILE: ${path}: unknown setting "${key}"${closestTo(key, known)}`,
      ),
    );
  const fromFile: Record<string, string> = {};
  for (const [key, value] of Object.entries(parsed)) {
    fromFile[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return { ...fromFile, ...definedOnly(env) };
}

/** ` (did you mean X?)` when a known name is within two edits of `name`. */
function closestTo(name: string, known: ReadonlySet<string>): string {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name.toUpperCase(), candidate);
    if (distance <= 2 && (best === undefined || distance < best.distance))
      best = { name: candidate, distance };
  }
  return best ? ` (did you mean ${best.name}?)` : "";
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(
        (previous[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    previous = row;
  }
  return previous[b.length] as number;
}

function definedOnly(env: Env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined) out[key] = value;
  return out;
}

/**
 * Webhook URLs carry their token, NATS URLs may carry a password, the alerter's destinations hold
 * webhook URLs: a bad one is named, never echoed.
 */
const SECRET_VARIABLE = /URL|PASSWORD|TOKEN|SECRET|CREDS|AUTHORIZATION|DESTINATIONS/;

export const isSecretVariable = (name: string): boolean => SECRET_VARIABLE.test(name);

export function loadConfig<S extends z.ZodObject>(schema: S, env: Env): z.output<S> {
  // An empty variable means "unset", as in most twelve-factor tools.
  const present: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== "") present[key] = value;
  }
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = String(issue.path[0] ?? "config");
    const given = isSecretVariable(variable) ? undefined : present[variable];
    // A value that is a JSON list names the element and field: ALERTER_DESTINATIONS[1].url
    const within = issue.path
      .slice(1)
      .map((part) => (typeof part === "number" ? `[${part}]` : `.${String(part)}`));
    return `${variable}${within.join("")}: ${issue.message}${given === undefined ? "" : ` (got ${JSON.stringify(given)})`}`;
  });
  throw new ConfigError(problems);
}

/** Field builders with messages a mail admin can act on. */
export const env = {
  /** `zero` says what 0 means for this port: a listener that is off, or one on any free port. */
  port: (fallback: number, zero: "off" | "any free port" = "off") =>
    z.coerce
      .number({ error: "must be a port number" })
      .int("must be a whole number")
      .min(0, `must be 1 to 65535, or 0 (${zero})`)
      .max(65535, `must be 1 to 65535, or 0 (${zero})`)
      .default(fallback),
  positiveInt: (fallback: number) =>
    z.coerce
      .number({ error: "must be a number" })
      .int("must be a whole number")
      .positive("must be > 0")
      .default(fallback),
  url: (protocols: readonly string[]) =>
    z.string().refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      `must be a URL (${protocols.join(" or ")})`,
    ),
  logLevel: () =>
    z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"], {
      error: "must be one of fatal, error, warn, info, debug, trace, silent",
    }),
  boolean: (fallback: boolean) =>
    z
      .enum(["true", "false", "1", "0", "yes", "no"], { error: "must be true or false" })
      .transform((value) => value === "true" || value === "1" || value === "yes")
      .default(fallback),
};

/** Settings every service shares. */
export const commonConfig = {
  LOG_LEVEL: env.logLevel().default("info"),
  LOG_FORMAT: z.enum(["auto", "json", "pretty"], { error: "must be auto, json or pretty" }).default("auto"),
  METRICS_HOST: z.string().default("0.0.0.0"),
  METRICS_PORT: env.port(9464, "any free port"),
};

/**
 * How many partitions the event stream is split into, by mail host (contracts/partitions.ts):
 * receiver and detector must be given the same count. 12 divides evenly among 1, 2, 3, 4, 6 and 12
 * replicas; every partition is a subject and, for the partitioned detector, a durable consumer.
 */
export const DEFAULT_EVENT_PARTITIONS = 12;

export const eventPartitionsConfig = () => ({
  EVENT_PARTITIONS: z.coerce
    .number({ error: "must be a number of partitions, 1 to 1024" })
    .int("must be a whole number")
    .min(1, "must be 1 to 1024")
    .max(1024, "must be 1 to 1024 (each partition is a durable consumer of its own)")
    .default(DEFAULT_EVENT_PARTITIONS),
});

/** How every service reaches NATS; NATS_URL is required except under `postwatch start`. */
export const natsConfig = () => ({
  NATS_URL: natsUrls(),
  NATS_CREDS_FILE: z.string().optional(),
  NATS_USER: z.string().optional(),
  NATS_PASSWORD: z.string().optional(),
  /** Copies JetStream keeps of every stream postwatch declares: 1 on a single server, 3 (or 5) in a cluster. */
  NATS_STREAM_REPLICAS: z.coerce
    .number({ error: "must be a number of copies, 1 to 5" })
    .int("must be a whole number")
    .min(1, "must be 1 to 5 (1 on a single NATS server, 3 in a cluster of three)")
    .max(5, "must be 1 to 5 (JetStream keeps at most 5 copies of a stream)")
    .default(1),
});

export type NatsConfig = z.output<z.ZodObject<ReturnType<typeof natsConfig>>>;

/**
 * The connection settings. Credentials written into NATS_URL (`nats://user:password@host`, or
 * `nats://token@host`), as the NATS CLI and Go client take them, are lifted out of the URLs: nats.js
 * ignores them there. NATS_USER, when set, wins over them.
 */
export const natsSettings = (config: NatsConfig, name: string) => {
  const inUrl = urlCredentials(config.NATS_URL);
  const explicit = config.NATS_USER !== undefined;
  return {
    servers: config.NATS_URL.map(withoutCredentials),
    name,
    credsFile: config.NATS_CREDS_FILE,
    user: explicit ? config.NATS_USER : inUrl?.user,
    password: explicit ? config.NATS_PASSWORD : inUrl?.password,
    token: explicit ? undefined : inUrl?.token,
  };
};

type UrlCredentials = { user?: string; password?: string; token?: string };

const parseServerUrl = (url: string): URL => new URL(url.includes("://") ? url : `nats://${url}`);

function credentialsOf(url: string): UrlCredentials | undefined {
  const { username, password } = parseServerUrl(url);
  if (username === "") return undefined;
  const user = decodeURIComponent(username);
  return password === "" ? { token: user } : { user, password: decodeURIComponent(password) };
}

/** The one set of credentials the URLs carry (natsUrls refuses URLs that carry different ones). */
const urlCredentials = (urls: readonly string[]): UrlCredentials | undefined =>
  urls.map(credentialsOf).find((credentials) => credentials !== undefined);

const sameCredentials = (urls: readonly string[]): boolean =>
  new Set(urls.map((url) => JSON.stringify(credentialsOf(url) ?? null)).filter((c) => c !== "null")).size <=
  1;

const withoutCredentials = (url: string): string => url.replace(/\/\/[^@/]*@/, "//");

/** NATS_URL is comma-separated server URLs, as nats.js accepts. */
export const natsUrls = () =>
  z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? "is required: nats://host:4222 of a NATS server with JetStream (postwatch start runs its own)"
          : "must be nats://host:port",
    })
    .transform((value) => value.split(",").map((s) => s.trim()))
    .refine(
      (urls) =>
        urls.every((url) => {
          try {
            return ["nats:", "tls:", "ws:", "wss:"].includes(parseServerUrl(url).protocol);
          } catch {
            return false;
          }
        }),
      "must be nats://host:port (comma-separated for a cluster)",
    )
    .refine(
      sameCredentials,
      "must carry the same user and password (or token) in every URL that carries any: they are one client's",
    );
