// Scores the parser on a corpus file: frame accuracy, clarifications, confidently wrong
// answers and parse time. Shared by `npm run bench:understanding` and the corpus tests.
//
// A frame is correct when measure, subject, window and environment equal the label (a
// window's end is compared up to `now` for measures about the past: "this week" may end at
// now or at Sunday midnight and mean the same runs), and every optional slot the label
// states (stat, polarity, rank, groupBy, against) is equal too; slots the label leaves out
// are not judged, as the two writers of the corpus left them out in different places.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Frame, SubjectKind } from "../../src/understanding/frame.ts";
import { type KnownName, NameIndex } from "../../src/understanding/names.ts";
import { CONFIDENT, parseFollowUp, parseFrame } from "../../src/understanding/parse.ts";

export const CORPUS_DIR = path.dirname(fileURLToPath(import.meta.url));

export interface CorpusLine {
  q: string;
  fleet: string;
  frame: Frame;
  previous?: Frame;
  expect?: "clarify";
}

export interface Fleet {
  fleet: string;
  now: string;
  timezone: string;
  names: NameIndex;
}

const KIND_LISTS: [string, SubjectKind][] = [
  ["jobs", "job"],
  ["groups", "group"],
  ["datasets", "dataset"],
  ["suppliers", "supplier"],
  ["artifacts", "artifact"],
  ["projects", "project"],
  ["tests", "test"],
  ["owners", "owner"],
  ["environments", "environment"],
];

const fleets = new Map<string, Fleet>();

/** A fleet's names, loaded and indexed once per process. */
export function loadFleet(name: string): Fleet {
  let f = fleets.get(name);
  if (!f) fleets.set(name, (f = readFleet(name)));
  return f;
}

function readFleet(name: string): Fleet {
  const raw = JSON.parse(readFileSync(path.join(CORPUS_DIR, "fleets", `${name}.json`), "utf8")) as Record<
    string,
    unknown
  >;
  const names: KnownName[] = [];
  for (const [list, kind] of KIND_LISTS)
    for (const n of (raw[list] as string[] | undefined) ?? []) names.push({ kind, name: n });
  return {
    fleet: name,
    now: raw["now"] as string,
    timezone: raw["timezone"] as string,
    names: new NameIndex(names),
  };
}

export function loadCorpus(file: string): { lines: CorpusLine[]; sha256: string } {
  const text = readFileSync(path.join(CORPUS_DIR, file), "utf8");
  const lines = text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as CorpusLine);
  return { lines, sha256: createHash("sha256").update(text).digest("hex") };
}

const FUTURE = new Set(["plan"]);

function sameWindow(a: Frame, b: Frame, now: Date): boolean {
  if (!a.window || !b.window) return !a.window && !b.window;
  const clamp = (iso: string) => {
    const t = new Date(iso).getTime();
    return FUTURE.has(a.measure) ? t : Math.min(t, now.getTime());
  };
  return (
    new Date(a.window.from).getTime() === new Date(b.window.from).getTime() &&
    clamp(a.window.to) === clamp(b.window.to)
  );
}

/** Which slots of `got` differ from the label `want` (empty when the frame is correct). */
export function frameDiff(want: Frame, got: Frame, now: Date): string[] {
  const out: string[] = [];
  if (want.measure !== got.measure) out.push("measure");
  if (want.subject.kind !== got.subject.kind || (want.subject.name ?? "") !== (got.subject.name ?? ""))
    out.push("subject");
  if (!sameWindow(want, got, now)) out.push("window");
  if ((want.environment ?? "") !== (got.environment ?? "")) out.push("environment");
  if (want.stat !== undefined && want.stat !== got.stat) out.push("stat");
  if (want.polarity !== undefined && want.polarity !== got.polarity) out.push("polarity");
  if (
    want.rank !== undefined &&
    (want.rank.order !== got.rank?.order || (want.rank.n ?? 0) !== (got.rank?.n ?? 0))
  )
    out.push("rank");
  if (want.groupBy !== undefined && want.groupBy !== got.groupBy) out.push("groupBy");
  if (
    want.against !== undefined &&
    (want.against.kind !== got.against?.kind || want.against.name !== got.against?.name)
  )
    out.push("against");
  return out;
}

export interface Outcome {
  line: CorpusLine;
  got: Frame;
  confidence: number;
  clarified: boolean;
  diff: string[];
  ms: number;
}

export interface Score {
  n: number;
  correct: number;
  clarified: number;
  confidentlyWrong: number;
  p50: number;
  p99: number;
  outcomes: Outcome[];
}

/** Follow-ups (lines with the previous question's frame): how many change the right slot. */
export function scoreFollowUps(lines: CorpusLine[]): { n: number; correct: number; wrong: string[] } {
  const wrong: string[] = [];
  let n = 0;
  for (const line of lines) {
    if (!line.previous) continue;
    n++;
    const fleet = loadFleet(line.fleet);
    const now = new Date(fleet.now);
    const p = parseFollowUp(line.q, line.previous, { now, timezone: fleet.timezone, names: fleet.names });
    const diff = p ? frameDiff(line.frame, p.frame, now) : ["not a follow-up"];
    if (diff.length) wrong.push(`[${diff.join(",")}] ${line.q} → ${JSON.stringify(p?.frame)}`);
  }
  return { n, correct: n - wrong.length, wrong };
}

/** Parses every question that is not a follow-up (follow-ups need a conversation). */
export function score(lines: CorpusLine[]): Score {
  const outcomes: Outcome[] = [];
  for (const line of lines) {
    if (line.previous) continue;
    const fleet = loadFleet(line.fleet);
    const now = new Date(fleet.now);
    const t0 = performance.now();
    const parsed = parseFrame(line.q, { now, timezone: fleet.timezone, names: fleet.names });
    const ms = performance.now() - t0;
    outcomes.push({
      line,
      got: parsed.frame,
      confidence: parsed.confidence,
      clarified: parsed.confidence < CONFIDENT,
      diff: frameDiff(line.frame, parsed.frame, now),
      ms,
    });
  }
  const times = outcomes.map((o) => o.ms).sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? 0;
  return {
    n: outcomes.length,
    // A clarification is not a correct answer, even where the corpus expects one.
    correct: outcomes.filter((o) => !o.clarified && o.diff.length === 0).length,
    clarified: outcomes.filter((o) => o.clarified).length,
    confidentlyWrong: outcomes.filter((o) => !o.clarified && o.diff.length > 0 && o.line.expect !== "clarify")
      .length,
    p50: pct(0.5),
    p99: pct(0.99),
    outcomes,
  };
}
