// `npm run docs`: writes the README's question tables from the catalogue in commands/
// (src/questions/catalogue.ts says what they hold). Run it after adding or changing a
// measure or a family; test/questions/catalogue.test.ts fails until it has been run.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { withCatalogue } from "./questions/catalogue.ts";
import { loadCommands } from "./questions/registry.ts";

const README = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../README.md");

const before = readFileSync(README, "utf8");
const after = withCatalogue(before, await loadCommands());
if (after === before) console.log("README.md: the question tables are up to date");
else {
  writeFileSync(README, after);
  console.log("README.md: the question tables were rewritten from commands/");
}
