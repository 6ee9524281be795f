/**
 * `postwatch config [SERVICE...]`: the settings each service would run with, after defaults and
 * POSTWATCH_CONFIG_FILE, so an admin can check a Compose file or a Helm release without starting
 * anything. Secrets stay hidden: a URL shows only its host, any other secret only that it is set.
 * A bad value fails as the service itself would, naming the variable.
 */
import { type Env, isSecretVariable } from "../../../shared/src/runtime/config.js";
import { describeUrl } from "../../../shared/src/runtime/log.js";
import { loadConfigs } from "../../../shared/src/runtime/service.js";
import { SERVICES, type ServiceName, VALIDATION_NATS_URL } from "./online.js";

const NO_NATS_URL = "(unset: `postwatch start` runs a private nats-server)";

export function configCommand(names: readonly ServiceName[], env: Env, out: (text: string) => void): number {
  const chosen = names.length > 0 ? names : (Object.keys(SERVICES) as ServiceName[]);
  const configs = loadConfigs<object>(
    chosen.map((name) => SERVICES[name].loadConfig),
    env.NATS_URL ? env : { ...env, NATS_URL: VALIDATION_NATS_URL },
  );
  const settings: Record<string, Record<string, unknown>> = {};
  for (const [index, name] of chosen.entries()) {
    const config = configs[index] ?? {};
    settings[name] = Object.fromEntries(
      Object.entries(config).map(([variable, value]) => [
        variable,
        variable === "NATS_URL" && !env.NATS_URL ? NO_NATS_URL : shown(variable, value),
      ]),
    );
  }
  out(`${JSON.stringify(settings, null, 2)}\n`);
  return 0;
}

function shown(variable: string, value: unknown): unknown {
  if (isRange(value)) return `${value.address}/${value.prefix}`;
  if (Array.isArray(value)) return value.map((item) => shown(variable, item));
  if (!isSecretVariable(variable) || value === undefined) return value;
  if (typeof value === "string" && /^[a-z][a-z0-9+.-]*:\/\//i.test(value))
    return `${describeUrl(value)} (rest hidden)`;
  // An alert destination: its routing shown, its URL and secrets hidden as variables of their name are.
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(
      Object.entries(value).map(([field, inner]) => [
        field,
        isSecretVariable(field.toUpperCase()) ? shown(field.toUpperCase(), inner) : inner,
      ]),
    );
  return "(set, hidden)";
}

/** SYSLOG_ALLOWED_SOURCES is held as parsed ranges; it reads back as it is written. */
function isRange(value: unknown): value is { address: string; prefix: number } {
  return typeof value === "object" && value !== null && "address" in value && "prefix" in value;
}
