/**
 * `postwatch dead-letters [--resend]`: the messages a consumer could not use and set aside (an
 * event of a newer schema, an alert no sink took), one line each with its reason; `--resend` puts
 * them back on their original subjects once the cause is fixed (a detector upgraded, a webhook back).
 */
import { z } from "zod";
import { type Env, loadConfig, natsConfig, natsSettings } from "../../../shared/src/runtime/config.js";
import {
  type DeadLetter,
  readDeadLetters,
  resendDeadLetters,
} from "../../../shared/src/runtime/dead-letters.js";
import { createLogger } from "../../../shared/src/runtime/log.js";
import { connectNats } from "../../../shared/src/runtime/nats.js";

export async function deadLettersCommand(
  env: Env,
  options: { resend: boolean },
  out: (text: string) => void,
): Promise<number> {
  const config = loadConfig(z.object(natsConfig()), env);
  const nats = await connectNats(
    natsSettings(config, "postwatch-cli"),
    createLogger({ level: "silent", service: "cli" }),
  );
  try {
    const letters = await readDeadLetters(nats.connection);
    for (const letter of letters) out(`${describe(letter)}\n`);
    out(`${letters.length} dead letter${letters.length === 1 ? "" : "s"}\n`);
    if (options.resend && letters.length > 0)
      out(`resent ${await resendDeadLetters(nats.connection, letters)} to their original subjects\n`);
  } finally {
    await nats.connection.close();
  }
  return 0;
}

const describe = (letter: DeadLetter) =>
  `${letter.storedAt}  ${letter.stream} #${letter.originalSeq}  ${letter.subject}${letter.consumer ? ` (${letter.consumer})` : ""}  ${letter.reason}${letter.detail ? `: ${letter.detail}` : ""}`;
