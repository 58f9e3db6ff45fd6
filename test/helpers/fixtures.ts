// Loads the real-world fixtures kept outside the repository at ../shared/fixtures (see its
// README). Tests that use them skip when the folder is absent (a user's fresh clone).
//
// Some OpenLineage fixtures were "expected output" files in their own projects' test suites
// and hold matchers instead of values. openLineageFixtures() turns each into a concrete,
// deterministic value:
//   "{{ any(result) }}" (dbt), "${json-unit.any-string}" (Flink, Spark) where a runId is
//     expected → a stable UUID per run: hashed from the file and the job it belongs to
//     (run.runId → the event's job; run.facets.parent.run.runId → the parent facet's job),
//     so a dbt model's START and COMPLETE share one runId and its parent link points at
//     the dbt-run job's runId;
//   "${json-unit.regex}1\\.\\d+\\.\\d+" → a string matching the simple regex ("1.0.0");
//   "{{RUN_START_TIME}}" → FIXTURE_RUN_START_TIME; "{{RUN_END_TIME_AFTER_8_MINUTES}}" →
//     8 minutes later (Marquez's docker demo);
//   any other matcher → a time if the key names a time, else a plain string.
// Those same expected-output files (Spark's pysparkHive*Event, Flink's expected_failed) also
// omit fields the real emitters always send and a server needs: a RunEvent without
// eventTime gets FIXTURE_RUN_START_TIME (START) or 10 minutes later (other types); one
// without run.runId gets the stable UUID. Spark's Start/Complete files count as one run.
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
/** The repository root: two levels up from test/helpers. */
export const REPO_ROOT = resolve(HERE, "..", "..");
export const SHARED_DIR: string = resolve(REPO_ROOT, "..", "shared");
export const FIXTURES_DIR: string = join(SHARED_DIR, "fixtures");
export const OPENLINEAGE_DIR: string = join(FIXTURES_DIR, "openlineage");

/** What {{RUN_START_TIME}} and a missing START eventTime become. */
export const FIXTURE_RUN_START_TIME = "2024-06-03T02:00:00.000Z";
/** Minutes after the start given to a non-START event that lacks an eventTime. */
export const FIXTURE_MISSING_END_MINUTES = 10;

type Obj = Record<string, unknown>;

/**
 * Every OpenLineage event fixture (the JSON Schema under spec/ excluded), placeholders
 * replaced, in a stable file order. `file` is the path under fixtures/openlineage/, e.g.
 * "marquez-repo/docker__metadata.template.json". null when ../shared/fixtures is absent.
 */
export function openLineageFixtures(): { file: string; events: unknown[] }[] | null {
  if (!existsSync(FIXTURES_DIR) || !existsSync(OPENLINEAGE_DIR)) return null;
  const out: { file: string; events: unknown[] }[] = [];
  for (const path of listFiles(OPENLINEAGE_DIR)) {
    const file = relative(OPENLINEAGE_DIR, path).split(sep).join("/");
    if (file.startsWith("spec/")) continue;
    if (!/\.(json|ndjson|jsonl)$/.test(file)) continue;
    const events = splitEvents(parseText(readFileSync(path, "utf8"), file));
    out.push({ file, events: events.map((e) => concretize(e, file)) });
  }
  return out;
}

/** One fixture by the end of its name (e.g. "event_full.json"); throws if not exactly one. */
export function openLineageFixture(suffix: string): { file: string; events: unknown[] } {
  const all = openLineageFixtures();
  if (!all) throw new Error(`fixtures are absent: ${FIXTURES_DIR}`);
  const hits = all.filter((f) => f.file.endsWith(suffix));
  if (hits.length !== 1) throw new Error(`${hits.length} fixtures end with "${suffix}"`);
  return hits[0]!;
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

/** One JSON document, or NDJSON (one event per line). */
function parseText(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const lines = text.split("\n").filter((l) => l.trim() !== "");
    try {
      return lines.map((l) => JSON.parse(l) as unknown);
    } catch {
      throw new Error(`fixture ${file} is neither JSON nor NDJSON: ${(err as Error).message}`);
    }
  }
}

/** A single event, an array of events, or a wrapper object holding an `events` array. */
function splitEvents(doc: unknown): unknown[] {
  if (Array.isArray(doc)) return doc;
  if (isObj(doc) && Array.isArray(doc["events"]) && !("run" in doc) && !("job" in doc)) {
    return doc["events"] as unknown[];
  }
  return [doc];
}

// ---------------------------------------------------------------------------------------
// Placeholders

const MATCHER = /^\s*(\{\{[\s\S]*\}\}|\$\{json-unit\.[^}]*\}[\s\S]*)\s*$/;
const START_TIME = /\{\{\s*RUN_START_TIME\s*\}\}/g;
const END_TIME = /\{\{\s*RUN_END_TIME_AFTER_(\d+)_MINUTES\s*\}\}/g;
/** A json-unit matcher such as "$" + "{json-unit.regex}" (spelt so, as it is no template). */
const JSON_UNIT = (name: string) => "$" + `{json-unit.${name}}`;

function concretize(event: unknown, file: string): unknown {
  // Spark's pysparkHiveStartEvent / pysparkHiveCompleteEvent are two halves of one run.
  const context = file.replace(/(Start|Running|Complete|Fail|Abort)Event/, "Event");
  const replaced = replace(event, [], event, context);
  if (isObj(replaced) && isObj(replaced["run"]) && isObj(replaced["job"])) {
    const run = replaced["run"];
    if (run["runId"] === undefined) run["runId"] = runUuid(context, replaced["job"]);
    if (replaced["eventTime"] === undefined) {
      replaced["eventTime"] =
        replaced["eventType"] === "START"
          ? FIXTURE_RUN_START_TIME
          : minutesAfterStart(FIXTURE_MISSING_END_MINUTES);
    }
  }
  return replaced;
}

function replace(value: unknown, path: string[], event: unknown, context: string): unknown {
  if (typeof value === "string") return replaceString(value, path, event, context);
  if (Array.isArray(value)) return value.map((v, i) => replace(v, [...path, String(i)], event, context));
  if (isObj(value)) {
    const out: Obj = {};
    for (const [k, v] of Object.entries(value)) out[k] = replace(v, [...path, k], event, context);
    return out;
  }
  return value;
}

function replaceString(s: string, path: string[], event: unknown, context: string): unknown {
  const timed = s
    .replace(START_TIME, () => FIXTURE_RUN_START_TIME)
    .replace(END_TIME, (_, n: string) => minutesAfterStart(Number(n)));
  if (timed !== s) return timed;
  const m = MATCHER.exec(s);
  if (!m) return s;
  const key = path[path.length - 1] ?? "";
  if (key === "runId") {
    // run.runId → the event's job; <facet>.run.runId (e.g. parent) → the sibling job.
    const owner = path.length === 2 ? get(event, "job") : get(event, ...path.slice(0, -2), "job");
    return isObj(owner) ? runUuid(context, owner) : uuidFrom(`${context}|${path.join(".")}`);
  }
  if (/time$/i.test(key) || /At$/.test(key)) return FIXTURE_RUN_START_TIME;
  const matcher = m[1]!;
  if (matcher.startsWith(JSON_UNIT("any-number"))) return 0;
  if (matcher.startsWith(JSON_UNIT("any-boolean"))) return true;
  if (matcher.startsWith(JSON_UNIT("regex"))) return exampleOf(matcher.slice(JSON_UNIT("regex").length));
  return `fixture-${key || "value"}`;
}

/** A string matching a simple regex (literals, \d, \w, \. and + * ? quantifiers). */
function exampleOf(pattern: string): string {
  const s = pattern
    .replace(/^\^|\$$/g, "")
    .replace(/\\d/g, "0")
    .replace(/\\w/g, "a")
    .replace(/\\(.)/g, "$1")
    .replace(/[+*?]/g, "");
  return /[[\](){}|]/.test(s) ? "fixture-value" : s;
}

function runUuid(context: string, job: Obj): string {
  return uuidFrom(`${context}|${String(job["namespace"])}|${String(job["name"])}`);
}

/** A deterministic RFC 4122-shaped (version 5 style) UUID from a string. */
function uuidFrom(key: string): string {
  const h = createHash("sha1").update(key).digest("hex").slice(0, 32).split("");
  h[12] = "5";
  h[16] = ((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16);
  const x = h.join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

function minutesAfterStart(n: number): string {
  return new Date(Date.parse(FIXTURE_RUN_START_TIME) + n * 60_000).toISOString();
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function get(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const k of path) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}
