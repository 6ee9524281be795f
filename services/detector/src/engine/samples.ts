/**
 * One short line per event for alert samples: the line as Postfix logged it (the event's redacted
 * `line`), so that grep finds it in mail.log; rebuilt from event fields for the events no single
 * line made (the correlator's message summaries) or that came without one. Events carry no
 * secrets (the parser redacts AUTH payloads), and nothing here adds any.
 */
import type { Endpoint, PostfixEvent } from "../../../../shared/src/contracts/events.js";
import { shorten } from "./fields.js";

const SAMPLE_CHARS = 240;

export function describeEvent(event: PostfixEvent): string {
  const origin = `${event.ts} ${event.host || "-"} ${event.program}[${event.pid ?? "-"}]:`;
  if (event.line !== undefined) return shorten(`${origin} ${event.line}`, SAMPLE_CHARS);
  return shorten(`${origin} ${event.kind} ${details(event)}`, SAMPLE_CHARS);
}

const at = (endpoint: Endpoint | undefined): string =>
  endpoint ? `${endpoint.host}[${endpoint.ip}]` : "unknown[unknown]";

function details(event: PostfixEvent): string {
  switch (event.kind) {
    case "sasl_auth_failed":
      return `${event.mechanism} from ${at(event.client)}${event.saslUsername ? ` user=${event.saslUsername}` : ""}`;
    case "disconnect":
      return `from ${at(event.client)} ${Object.entries(event.commands)
        .map(([command, n]) => `${command}=${n.ok}/${n.total}`)
        .join(" ")}`;
    case "too_many_errors":
      return `after ${event.stage} from ${at(event.client)}`;
    case "client":
      return `${at(event.client)} sasl_method=${event.saslMethod ?? "-"} sasl_username=${event.saslUsername ?? "-"}`;
    case "reject":
      return `${event.stage} from ${at(event.client)}: ${event.smtpCode ?? ""} ${event.reason}; to=<${event.to ?? ""}>`;
    case "delivery":
      return `to=<${event.to}> relay=${event.relay} status=${event.status} (${event.response})`;
    case "tls":
      return `${event.trust} ${event.direction === "in" ? "from" : "to"} ${at(event.peer)}: ${event.protocol} with cipher ${event.cipher}`;
    case "message": {
      const statuses = new Map<string, number>();
      for (const r of event.recipients) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      const summary = [...statuses].map(([status, n]) => `${status}=${n}`).join(" ");
      return `from=<${event.from ?? ""}> client=${at(event.client)} sasl_username=${event.saslUsername ?? "-"} rcpts=${event.recipients.length} ${summary}`;
    }
    case "debug":
      return event.authUsername ? `${event.text} (AUTH user ${event.authUsername})` : event.text;
    case "warning":
    case "error":
    case "fatal":
    case "panic":
    case "notice":
    case "unparsed":
      return event.text;
    default:
      return "client" in event ? `from ${at((event as { client?: Endpoint }).client)}` : "";
  }
}
