import type { Endpoint } from "../contracts/events.js";

/** Postfix's own `host[ip]` notation, so report output can be pasted into a grep. */
export function formatEndpoint(endpoint: Endpoint): string {
  return `${endpoint.host}[${endpoint.ip}]`;
}

/** Right-aligns `value` in `width` columns, as pflogsumm's `%6d` does. */
export function padNumber(value: number, width = 7): string {
  return String(value).padStart(width);
}
