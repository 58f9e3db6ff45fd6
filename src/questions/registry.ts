// Loads the question families from commands/: one file each, the file name is the id.
// Validated when loaded, so a broken family fails startup rather than a question.
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MODULE_EXT } from "../module-ext.ts";
import type { Command } from "./types.ts";

export const COMMANDS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../commands");

export async function loadCommands(dir = COMMANDS_DIR): Promise<Command[]> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(MODULE_EXT) && !f.endsWith(".d.ts"))
    .sort();
  const out: Command[] = [];
  for (const f of files) {
    const id = f.slice(0, -MODULE_EXT.length);
    const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as { default?: Command };
    const c = mod.default;
    const problem = !c
      ? "has no default export"
      : c.id !== id
        ? `declares id "${c.id}" (must equal the file name "${id}")`
        : typeof c.match !== "function" || typeof c.run !== "function"
          ? "must export match() and run()"
          : !Array.isArray(c.examples) || c.examples.length < 2
            ? "needs at least two example questions"
            : undefined;
    if (problem) throw new Error(`commands/${f} ${problem}`);
    out.push(c!);
  }
  return out;
}
