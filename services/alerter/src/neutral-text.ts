/**
 * Alerts quote what arrived in syslog: user names, HELO names, sender addresses, whole lines. Anyone
 * who can reach a mail server's SMTP port chooses those bytes, so before an alert goes anywhere its
 * text is made inert for the terminals, chat clients and SIEM consoles that show it.
 */
import type { Alert } from "../../../shared/src/contracts/alerts.js";

/**
 * Characters that steer a display rather than show something: C0 controls (ESC starts ANSI and
 * OSC-8 hyperlink sequences, BEL rings), DEL, C1 controls (U+009B is a one-byte CSI), the
 * zero-width and bidirectional formatting characters that hide or reorder text (U+202E turns
 * `exe.txt` into `txt.exe`), the line and paragraph separators, and the byte-order mark.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const STEERING = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** Each steering character written as its escape (`\x1b`, `\u202e`): visible, and still greppable. */
export function escapeControls(text: string): string {
  return text.replace(STEERING, (char) => {
    const code = char.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

const escapeAll = (values: readonly string[]) => values.map(escapeControls);

/**
 * The alert with every text escaped, as every destination gets it. The remediation keeps its line
 * breaks: it is written by the rule's author, one step a line.
 */
export function neutraliseAlert(alert: Alert): Alert {
  const facts: Alert["facts"] = {};
  for (const [name, value] of Object.entries(alert.facts)) {
    facts[escapeControls(name)] =
      typeof value === "number"
        ? value
        : typeof value === "string"
          ? escapeControls(value)
          : escapeAll(value);
  }
  return {
    ...alert,
    rule: escapeControls(alert.rule),
    key: { type: alert.key.type, value: escapeControls(alert.key.value) },
    summary: escapeControls(alert.summary),
    remediation: alert.remediation.split("\n").map(escapeControls).join("\n"),
    hosts: escapeAll(alert.hosts),
    related: { clientIps: escapeAll(alert.related.clientIps), saslUsers: escapeAll(alert.related.saslUsers) },
    facts,
    samples: escapeAll(alert.samples),
  };
}
