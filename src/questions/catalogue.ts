// The README's question tables, generated from what commands/ registers (as /houston help
// is), so the README never lists a question Houston cannot answer or misses one it can.
// `npm run docs` writes them between their markers (src/docs.ts); a test fails when the
// README's tables are not what the catalogue gives.
import { isMeasure, type MeasureCommand } from "./measure.ts";
import type { Command } from "./types.ts";

/** The markers around each generated table in README.md. */
export const TABLES = {
  measures: ["<!-- catalogue:measures -->", "<!-- /catalogue:measures -->"],
  families: ["<!-- catalogue:families -->", "<!-- /catalogue:families -->"],
} as const;

/** Examples shown per row: as many as help shows. */
const EXAMPLES = 3;

/** Text for a table cell: a pipe would end the cell, a newline the row. */
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\s*\n\s*/g, " ");

const examples = (c: Command) => `_${cell(c.examples.slice(0, EXAMPLES).join(" · "))}_`;

/** "job, group, everything": what a measure can be asked about. */
function subjects(m: MeasureCommand): string {
  return m.subjects.map((k) => (k === "fleet" ? "everything" : k)).join(", ");
}

/** The period a measure answers over when the question names none. */
function defaultPeriod(m: MeasureCommand): string {
  if (m.byDefault) return cell(m.byDefault);
  return m.defaultDays === null ? "the whole history" : `the last ${m.defaultDays} days`;
}

/** The table of the measures: what each answers, about what, over which period by default, with examples. */
export function measuresTable(commands: Command[]): string {
  const rows = commands
    .filter(isMeasure)
    .map(
      (m) =>
        `| ${cell(m.title)} | ${cell(m.summary)} | ${subjects(m)} | ${defaultPeriod(m)} | ${examples(m)} |`,
    );
  return [
    "| measure | answers | about | unless a time is asked | for example |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

/** The table of the other families (keyword families, and the commands that act or list settings). */
export function familiesTable(commands: Command[]): string {
  const rows = commands
    .filter((c) => !isMeasure(c))
    .map((c) => `| ${cell(c.title)} | ${cell(c.summary)} | ${examples(c)} |`);
  return ["| family | answers | for example |", "| --- | --- | --- |", ...rows].join("\n");
}

/** `readme` with each generated table replaced by the catalogue's; throws when a marker is missing. */
export function withCatalogue(readme: string, commands: Command[]): string {
  let out = readme;
  for (const [name, table] of [
    ["measures", measuresTable(commands)],
    ["families", familiesTable(commands)],
  ] as const) {
    const [open, close] = TABLES[name];
    const start = out.indexOf(open);
    const end = out.indexOf(close);
    if (start < 0 || end < start)
      throw new Error(`README.md has no ${open} … ${close} markers for the ${name} table`);
    out = `${out.slice(0, start + open.length)}\n${table}\n${out.slice(end)}`;
  }
  return out;
}
