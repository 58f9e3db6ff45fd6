// The README's question tables are generated from commands/ (`npm run docs`): this fails when
// a measure or family was added or changed and the README was not regenerated.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { familiesTable, measuresTable, TABLES, withCatalogue } from "../../src/questions/catalogue.ts";
import { isMeasure } from "../../src/questions/measure.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import type { Command } from "../../src/questions/types.ts";

const commands = await loadCommands();
const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** The text between a table's markers. */
function between(text: string, [open, close]: readonly [string, string]): string {
  return text.slice(text.indexOf(open) + open.length, text.indexOf(close)).trim();
}

describe("the README's question tables", () => {
  it("are the catalogue's: run `npm run docs` after changing a measure or a family", () => {
    const want = withCatalogue(readme, commands);
    for (const markers of Object.values(TABLES))
      assert.equal(
        between(readme, markers),
        between(want, markers),
        `README.md between ${markers[0]} and ${markers[1]} is out of date: run npm run docs`,
      );
    assert.equal(readme, want);
  });

  it("list every measure in the measures table and every other command in the families table, once", () => {
    const rowTitles = (table: string) =>
      table
        .split("\n")
        .slice(2)
        .map((row) => row.split(" | ")[0]!.slice(2));
    assert.deepEqual(
      rowTitles(measuresTable(commands)),
      commands.filter(isMeasure).map((c) => c.title),
    );
    assert.deepEqual(
      rowTitles(familiesTable(commands)),
      commands.filter((c) => !isMeasure(c)).map((c) => c.title),
    );
  });

  it("keep a pipe or a line break in a summary inside its cell", () => {
    const odd: Command = {
      id: "odd",
      title: "Odd",
      summary: "pass|fail counts\nper day",
      examples: ["pass|fail today", "and more"],
      match: () => 0,
      run: () => Promise.reject(new Error("not asked")),
    };
    assert.equal(
      familiesTable([odd]).split("\n")[2],
      "| Odd | pass\\|fail counts per day | _pass\\|fail today · and more_ |",
    );
  });

  it("are written only between their markers, and a README without them is refused", () => {
    const text = `intro\n${TABLES.measures[0]}\nold\n${TABLES.measures[1]}\nmiddle\n${TABLES.families[0]}\n${TABLES.families[1]}\nend`;
    const out = withCatalogue(text, commands);
    assert.ok(out.startsWith(`intro\n${TABLES.measures[0]}\n| measure |`));
    assert.ok(out.includes(`${TABLES.measures[1]}\nmiddle\n${TABLES.families[0]}\n| family |`));
    assert.ok(out.endsWith(`${TABLES.families[1]}\nend`));
    assert.throws(() => withCatalogue("no markers here", commands), /no <!-- catalogue:measures -->/);
  });
});
