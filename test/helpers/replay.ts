/** `postwatch replay` over lines a test sends live, for comparing the live pipeline with it. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type ReplayResult, replay } from "../../services/cli/src/offline.js";

/** What `postwatch replay` raises over `lines`, read from a file as the command reads one. */
export async function replayLines(lines: readonly string[]): Promise<ReplayResult> {
  const dir = mkdtempSync(join(tmpdir(), "postwatch-replay-"));
  try {
    const file = join(dir, "mail.log");
    writeFileSync(file, `${lines.join("\n")}\n`);
    return await replay([file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
