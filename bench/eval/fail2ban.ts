/**
 * fail2ban's verdict on a log: the real `fail2ban-regex` with Debian's postfix filter, once per
 * postfix jail of /etc/fail2ban/jail.conf as apt installed it (filter mode, maxretry, findtime),
 * and the bans those jails would have made: an address is banned when `maxretry` of its matches
 * fall within `findtime`.
 */
import { readFileSync } from "node:fs";
import { runWithDeadline } from "../child-process.js";

const JAIL_CONF = "/etc/fail2ban/jail.conf";
const POSTFIX_JAILS = ["postfix", "postfix-rbl", "postfix-sasl"] as const;

export interface Jail {
  name: string;
  /** As fail2ban-regex takes it: `postfix[mode=auth]`. */
  filter: string;
  maxretry: number;
  findtimeSeconds: number;
}

export interface Ban {
  jail: string;
  ip: string;
  /** Event time of the match that reached maxretry. */
  atMs: number;
}

/** Debian's postfix jails, read from jail.conf: [DEFAULT] settings, then each jail's own. */
export function postfixJails(text = readFileSync(JAIL_CONF, "utf8")): Jail[] {
  const sections = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of text.split("\n")) {
    const section = /^\[([^\]]+)\]\s*$/.exec(line);
    if (section !== null) {
      current = new Map();
      sections.set(section[1] as string, current);
      continue;
    }
    const setting = /^(\w+)\s*=\s*(.*?)\s*$/.exec(line);
    if (setting !== null && current !== undefined) current.set(setting[1] as string, setting[2] as string);
  }
  const defaults = sections.get("DEFAULT") ?? new Map<string, string>();
  return POSTFIX_JAILS.map((name) => {
    const own = sections.get(name);
    if (own === undefined) throw new Error(`${JAIL_CONF} has no [${name}] jail`);
    const setting = (key: string) => own.get(key) ?? defaults.get(key);
    const mode = own.get("mode");
    return {
      name,
      filter: own.get("filter") ?? (mode === undefined ? name : `${name}[mode=${mode}]`),
      maxretry: Number(setting("maxretry")),
      findtimeSeconds: durationSeconds(setting("findtime") ?? ""),
    };
  });
}

/** fail2ban's time abbreviations as jail.conf uses them: `600`, `10m`, `1h`, `1d`, `1w`. */
function durationSeconds(text: string): number {
  const match = /^(\d+)\s*([smhdw]?)$/.exec(text);
  if (match === null) throw new Error(`unreadable fail2ban duration "${text}"`);
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }[
    match[2] as "" | "s" | "m" | "h" | "d" | "w"
  ];
  return Number(match[1]) * unit;
}

/**
 * Each match of `jail`'s filter in `file`: the address, and the time of the matched line (fail2ban
 * keeps whole seconds; the line's own RFC 3339 stamp, where it has one, says when fail2ban read it).
 */
export async function fail2banMatches(file: string, jail: Jail): Promise<{ ip: string; atMs: number }[]> {
  const run = await runWithDeadline("fail2ban-regex", ["-o", "<ip> <time> <msg>", file, jail.filter], {
    timeoutMs: 60_000,
    aptPackage: "fail2ban",
  });
  const matches: { ip: string; atMs: number }[] = [];
  for (const row of run.stdout.matchAll(/^(\S+) ([\d.]+) (\S+)/gm)) {
    const stamped = Date.parse(row[3] as string);
    matches.push({
      ip: row[1] as string,
      atMs: /^\d{4}-/.test(row[3] as string) && !Number.isNaN(stamped) ? stamped : Number(row[2]) * 1000,
    });
  }
  return matches;
}

/** The first ban per jail and address: the match at which `maxretry` fell within `findtime`. */
export function bans(jail: Jail, matches: readonly { ip: string; atMs: number }[]): Ban[] {
  const byIp = new Map<string, number[]>();
  for (const { ip, atMs } of matches) byIp.set(ip, [...(byIp.get(ip) ?? []), atMs]);
  const found: Ban[] = [];
  for (const [ip, times] of byIp) {
    times.sort((a, b) => a - b);
    for (let i = jail.maxretry - 1; i < times.length; i++) {
      const atMs = times[i] as number;
      if (atMs - (times[i - jail.maxretry + 1] as number) <= jail.findtimeSeconds * 1000) {
        found.push({ jail: jail.name, ip, atMs });
        break;
      }
    }
  }
  return found;
}

/** Every ban Debian's postfix jails would make on `file`, earliest first. */
export async function fail2banBans(file: string, jails: readonly Jail[]): Promise<Ban[]> {
  const perJail = await Promise.all(jails.map(async (jail) => bans(jail, await fail2banMatches(file, jail))));
  return perJail.flat().sort((a, b) => a.atMs - b.atMs);
}
