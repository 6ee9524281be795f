import { PostfixCache } from "../postfix/parse.js";
import { SyslogCache } from "../syslog/syslog-cache.js";

/**
 * Everything lineToEvent remembers from one line to the next, created by whoever owns a stream of
 * lines (a receiver, a CLI run over files) and handed in through LineContext: parsing stays a pure
 * function of its inputs, and two streams never share state unless their owner says so.
 */
export class ParserCache {
  readonly syslog = new SyslogCache();
  readonly postfix = new PostfixCache();
}
