import { RecurringStrings } from "../postfix/recurring.js";
import { LastDate, type WallClock } from "./time.js";

/** `YYYY-MM-DDTHH:MM:`: what a minute's lines share. */
export const MINUTE_CHARS = 17;

/**
 * What parseSyslogLine remembers from one line to the next, kept by its caller: one per stream of
 * lines (a receiver, a run over files). Every entry is checked against the line before it is used,
 * so lines of several senders interleaved through one cache give the same records, with more misses.
 */
export class SyslogCache {
  /** The hour of the reference time whose UTC year is `yearOfHour`: the receiver asks once per line. */
  yearHour = Number.NaN;
  yearOfHour = 0;
  /** Whether `minuteCodes` holds a minute: none before the first valid one. */
  minuteValid = false;
  /** The last valid RFC 3339 minute read, as character codes (see isLastMinute), and what it gave. */
  readonly minuteCodes = new Uint16Array(MINUTE_CHARS);
  minute: WallClock = { year: 1970, month: 0, day: 1, hour: 0, minute: 0, second: 0 };
  minuteUtc = 0;
  /** The previous line's HOSTNAME: most files name one host, so it is cut from a line once. */
  hostname = "";
  /** Tags: a log names a few dozen programs, and the Postfix parser's program table is keyed by them. */
  readonly appNames = new RecurringStrings(64);
  readonly lastDate = new LastDate();
}
