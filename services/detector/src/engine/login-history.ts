/**
 * Where each SASL user has logged in from: the addresses and networks (/24, IPv6 /64) of their
 * successful logins, each with first and last seen. Bounded (users, places per user, clients) and
 * decaying (a place not seen for `forgetAfterMs` is forgotten), like every other piece of engine
 * state; time is the events' own.
 *
 * It turns "a login" into evidence: the same login is routine from the user's usual address and
 * suspicious from one never seen before. Rules read it through the event context (fields.ts).
 */
import type { PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { clientIpOf, loginNetwork } from "./addresses.js";
import type { LoginFacts } from "./fields.js";

export const LOGIN_HISTORY_DEFAULTS = {
  maxUsers: 200_000,
  /** Addresses and networks kept per user; the least recently used makes room. */
  maxPlacesPerUser: 32,
  /** Client addresses remembered as "someone logged in from here". */
  maxClients: 200_000,
  forgetAfterMs: 30 * 86_400_000,
  /** How long after its first login an address still counts as new for the user's mail. */
  newForMs: 86_400_000,
};
export type LoginHistoryOptions = typeof LOGIN_HISTORY_DEFAULTS;

/**
 * How a login's address relates to the user's history, before this login:
 * `known` the address itself, `known_network` another address of its network, `new` neither
 * (while the user has logged in from elsewhere), `first` the user has no history at all.
 */
export interface LoginNovelty {
  kind: "known" | "known_network" | "new" | "first";
  ip: string;
  network: string | undefined;
  /** Last login from the address (known) or its network (known_network). */
  lastMs?: number;
}

interface Place {
  firstMs: number;
  lastMs: number;
  /** Whether the place was new to a user with history when first seen (see LoginNovelty). */
  novel: boolean;
}

interface UserLogins {
  firstMs: number;
  /** Addresses and networks in one map (`a:` / `n:` prefixed), least recently seen first. */
  places: Map<string, Place>;
}

export class LoginHistory {
  private readonly users = new Map<string, UserLogins>();
  private readonly clients = new Map<string, number>();
  private readonly options: LoginHistoryOptions;

  constructor(options: Partial<LoginHistoryOptions> = {}) {
    this.options = { ...LOGIN_HISTORY_DEFAULTS, ...options };
  }

  get forgetAfterMs(): number {
    return this.options.forgetAfterMs;
  }

  get size(): number {
    return this.users.size;
  }

  /**
   * What the history says about an event, learning from it if it is a successful login: for a
   * login its novelty, for an authenticated message whether it left from a new address, for a
   * failure whether its address and user name are known. Undefined for events it has no word on.
   */
  observe(event: PostfixEvent, atMs: number): LoginFacts | undefined {
    const ip = clientIpOf(event);
    if (ip === undefined) return undefined;
    switch (event.kind) {
      case "client": {
        if (!event.saslUsername) return undefined;
        const novelty = this.learn(event.saslUsername, ip, atMs);
        return { novelty, noveltyText: describeNovelty(novelty, this.options.forgetAfterMs, atMs) };
      }
      case "message":
        return event.saslUsername
          ? { sentFromNewAddress: this.sendsFromNewAddress(event.saslUsername, ip, atMs) }
          : undefined;
      case "sasl_auth_failed": {
        const clientKnown = this.knowsClient(ip, atMs);
        return event.saslUsername
          ? { clientKnown, userKnown: this.knowsUser(event.saslUsername, atMs) }
          : { clientKnown };
      }
      case "disconnect":
      case "too_many_errors":
      case "lost_connection":
        return { clientKnown: this.knowsClient(ip, atMs) };
      default:
        return undefined;
    }
  }

  /** Records a successful login and returns how its address related to the history before it. */
  learn(user: string, ip: string, atMs: number): LoginNovelty {
    const novelty = this.novelty(user, ip, atMs);
    const name = user.toLowerCase();
    let logins = this.users.get(name);
    if (logins === undefined) {
      logins = { firstMs: atMs, places: new Map() };
      if (this.users.size >= this.options.maxUsers)
        this.users.delete(this.users.keys().next().value as string);
    } else this.users.delete(name);
    this.users.set(name, logins);
    const novel = novelty.kind === "new";
    this.touch(logins, `a:${ip}`, atMs, novel);
    if (novelty.network !== undefined) this.touch(logins, `n:${novelty.network}`, atMs, novel);
    this.clients.delete(ip);
    this.clients.set(ip, atMs);
    if (this.clients.size > this.options.maxClients)
      this.clients.delete(this.clients.keys().next().value as string);
    return novelty;
  }

  novelty(user: string, ip: string, atMs: number): LoginNovelty {
    const network = loginNetwork(ip);
    const logins = this.users.get(user.toLowerCase());
    const address = logins && this.recent(logins, `a:${ip}`, atMs);
    if (address) return { kind: "known", ip, network, lastMs: address.lastMs };
    const net = logins && network !== undefined ? this.recent(logins, `n:${network}`, atMs) : undefined;
    if (net) return { kind: "known_network", ip, network, lastMs: net.lastMs };
    const hasHistory =
      logins !== undefined && [...logins.places.keys()].some((k) => this.recent(logins, k, atMs));
    return { kind: hasHistory ? "new" : "first", ip, network };
  }

  /**
   * For the user's mail: whether it comes from an address that was new to the user when it first
   * logged in, within the last `newForMs`. Each authenticated message is itself a login (the
   * `client=... sasl_username=` line), so its address is always in the history by then.
   */
  sendsFromNewAddress(user: string, ip: string, atMs: number): boolean {
    const place = this.users.get(user.toLowerCase())?.places.get(`a:${ip}`);
    return place?.novel === true && atMs - place.firstMs < this.options.newForMs;
  }

  /** Whether anyone logged in successfully from this address within the horizon. */
  knowsClient(ip: string, atMs: number): boolean {
    const lastMs = this.clients.get(ip);
    return lastMs !== undefined && atMs - lastMs < this.options.forgetAfterMs;
  }

  /** Whether this user name logged in successfully within the horizon: it is a real account. */
  knowsUser(user: string, atMs: number): boolean {
    const logins = this.users.get(user.toLowerCase());
    if (logins === undefined) return false;
    for (const place of logins.places.values())
      if (atMs - place.lastMs < this.options.forgetAfterMs) return true;
    return false;
  }

  private recent(logins: UserLogins, key: string, atMs: number): Place | undefined {
    const place = logins.places.get(key);
    if (place === undefined) return undefined;
    if (atMs - place.lastMs < this.options.forgetAfterMs) return place;
    logins.places.delete(key);
    return undefined;
  }

  private touch(logins: UserLogins, key: string, atMs: number, novel: boolean): void {
    const place = logins.places.get(key);
    logins.places.delete(key);
    logins.places.set(
      key,
      place
        ? { firstMs: Math.min(place.firstMs, atMs), lastMs: Math.max(place.lastMs, atMs), novel: place.novel }
        : { firstMs: atMs, lastMs: atMs, novel },
    );
    if (logins.places.size > this.options.maxPlacesPerUser)
      logins.places.delete(logins.places.keys().next().value as string);
  }
}

/** `first login from 198.51.100.7, not seen in 30 days`: the login fact alerts show. */
export function describeNovelty(novelty: LoginNovelty, forgetAfterMs: number, atMs: number): string {
  const days = Math.round(forgetAfterMs / 86_400_000);
  switch (novelty.kind) {
    case "known":
      return `usual address ${novelty.ip} (last login ${ago(atMs - (novelty.lastMs ?? atMs))} before)`;
    case "known_network":
      return `new address ${novelty.ip} in a known network ${novelty.network} (last login ${ago(atMs - (novelty.lastMs ?? atMs))} before)`;
    case "new":
      return `first login from ${novelty.ip}, not seen in ${days} days`;
    case "first":
      return `login from ${novelty.ip}; no login history for this user yet`;
  }
}

function ago(ms: number): string {
  if (ms < 3_600_000) return `${Math.max(0, Math.round(ms / 60_000))}m`;
  if (ms < 86_400_000) return `${Math.round(ms / 3_600_000)}h`;
  return `${Math.round(ms / 86_400_000)}d`;
}
