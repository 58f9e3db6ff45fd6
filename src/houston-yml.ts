// houston.yml: monitors as code. This issue starts it with `jobs:` (expected schedules);
// every problem is reported as file:line:column plus the field path and how to fix it.
import { readFileSync } from "node:fs";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";
import { isValidTimeZone } from "./config.ts";
import { validateSchedule } from "./db/slots.ts";

export class HoustonFileError extends Error {
  override name = "HoustonFileError";
  constructor(readonly problems: string[]) {
    super(`houston.yml is not valid:\n  ${problems.join("\n  ")}`);
  }
}

export interface JobSpec {
  name: string;
  /** Omitted → applies to the job of this name in any namespace. */
  namespace?: string;
  schedule?: string;
  timezone: string;
  graceSeconds: number;
  owner?: string;
  channel?: string;
  group?: string;
}

export interface DatasetSpec {
  name: string;
  /** Omitted → applies to the dataset of this name in any namespace. */
  namespace?: string;
  /** Stale when the last update is older than this. */
  maxAgeSeconds?: number;
  /** A source delivery expected each day by this local time, "HH:MM". */
  expectedArrival?: string;
  timezone: string;
  supplier?: string;
  owner?: string;
}

export interface HoustonFile {
  path?: string;
  jobs: JobSpec[];
  datasets: DatasetSpec[];
}

const DURATION = /^(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m(?:in)?)?\s*(?:(\d+)s)?$/;

/** "90s", "15m", "1h30m", "2d" → seconds; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m || text.trim() === "") return undefined;
  const [, d = "0", h = "0", mi = "0", s = "0"] = m;
  return Number(d) * 86400 + Number(h) * 3600 + Number(mi) * 60 + Number(s);
}

const DATASET_KEYS = ["name", "namespace", "max_age", "arrival", "timezone", "supplier", "owner"];
const SECTIONS = ["jobs", "datasets"];
const JOB_KEYS = ["name", "namespace", "schedule", "every", "timezone", "grace", "owner", "channel", "group"];

export function parseHoustonFile(text: string, file: string, defaultTimezone: string): HoustonFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const problems: string[] = [];
  const at = (node: Node | null | undefined, field: string, msg: string) => {
    const pos = node?.range ? lc.linePos(node.range[0]) : undefined;
    problems.push(`${file}${pos ? `:${pos.line}:${pos.col}` : ""}: ${field}: ${msg}`);
  };
  for (const e of doc.errors) {
    const pos = lc.linePos(e.pos[0]);
    problems.push(`${file}:${pos.line}:${pos.col}: ${e.message.split("\n")[0]}`);
  }
  if (problems.length) throw new HoustonFileError(problems);
  const out: HoustonFile = { path: file, jobs: [], datasets: [] };
  const root = doc.contents;
  if (root === null || (isScalar(root) && root.value === null)) return out;
  if (!isMap(root)) {
    at(root, "(top level)", "expected a mapping with a `jobs:` section");
    throw new HoustonFileError(problems);
  }
  for (const pair of root.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : "?";
    if (!SECTIONS.includes(k)) {
      at(
        pair.key as Node,
        k,
        `unknown section (this version of Houston understands: ${SECTIONS.join(", ")})`,
      );
    }
  }
  const jobsNode = root.get("jobs", true) as Node | undefined;
  if (jobsNode !== undefined && !(isScalar(jobsNode) && jobsNode.value === null)) {
    if (!isSeq(jobsNode)) at(jobsNode, "jobs", "expected a list of jobs (each item starts with `- name:`)");
    else {
      const seen = new Set<string>();
      jobsNode.items.forEach((item, i) => {
        const spec = readJob(item as Node, `jobs[${i}]`, defaultTimezone, at);
        if (!spec) return;
        const id = `${spec.namespace ?? "*"}/${spec.name}`;
        if (seen.has(id)) at(item as Node, `jobs[${i}].name`, `job "${spec.name}" is declared twice`);
        seen.add(id);
        out.jobs.push(spec);
      });
    }
  }
  const datasetsNode = root.get("datasets", true) as Node | undefined;
  if (datasetsNode !== undefined && !(isScalar(datasetsNode) && datasetsNode.value === null)) {
    if (!isSeq(datasetsNode))
      at(datasetsNode, "datasets", "expected a list of datasets (each item starts with `- name:`)");
    else {
      const seen = new Set<string>();
      datasetsNode.items.forEach((item, i) => {
        const spec = readDataset(item as Node, `datasets[${i}]`, defaultTimezone, at);
        if (!spec) return;
        const id = `${spec.namespace ?? "*"}/${spec.name}`;
        if (seen.has(id)) at(item as Node, `datasets[${i}].name`, `dataset "${spec.name}" is declared twice`);
        seen.add(id);
        out.datasets.push(spec);
      });
    }
  }
  if (problems.length) throw new HoustonFileError(problems);
  return out;
}

type At = (node: Node | null | undefined, field: string, msg: string) => void;

function readJob(node: Node, path: string, defaultTimezone: string, at: At): JobSpec | undefined {
  if (!isMap(node)) {
    at(node, path, 'expected a mapping like `{ name: nightly_orders, schedule: "0 2 * * *" }`');
    return undefined;
  }
  const map = node as YAMLMap;
  for (const pair of map.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : "?";
    if (!JOB_KEYS.includes(k))
      at(pair.key as Node, `${path}.${k}`, `unknown field (fields: ${JOB_KEYS.join(", ")})`);
  }
  const str = (k: string): { value?: string; node?: Node } => {
    const n = map.get(k, true) as Node | undefined;
    if (n === undefined) return {};
    if (!isScalar(n) || n.value === null || typeof n.value === "object") {
      at(n, `${path}.${k}`, "expected a text value");
      return { node: n };
    }
    return { value: String(n.value).trim(), node: n };
  };
  const name = str("name");
  if (!name.value) {
    at(name.node ?? node, `${path}.name`, "is required");
    return undefined;
  }
  const spec: JobSpec = { name: name.value, timezone: defaultTimezone, graceSeconds: 3600 };
  const ns = str("namespace");
  if (ns.value) spec.namespace = ns.value;
  const tz = str("timezone");
  if (tz.value) {
    if (isValidTimeZone(tz.value)) spec.timezone = tz.value;
    else at(tz.node, `${path}.timezone`, `"${tz.value}" is not an IANA time zone (e.g. UTC, Europe/Berlin)`);
  }
  const schedule = str("schedule");
  const every = str("every");
  if (schedule.value && every.value)
    at(every.node, `${path}.every`, "use either schedule or every, not both");
  if (schedule.value) {
    try {
      validateSchedule(schedule.value, spec.timezone);
      spec.schedule = schedule.value;
    } catch (err) {
      at(schedule.node, `${path}.schedule`, `not a valid cron expression: ${(err as Error).message}`);
    }
  } else if (every.value) {
    const secs = parseDuration(every.value.replace(/^every\s+/, ""));
    if (!secs || secs < 60)
      at(every.node, `${path}.every`, `"${every.value}" is not a duration of at least 1m (e.g. 15m, 1h)`);
    else spec.schedule = `@every ${secs}s`;
  }
  const grace = str("grace");
  if (grace.value) {
    const secs = parseDuration(grace.value);
    if (secs === undefined)
      at(grace.node, `${path}.grace`, `"${grace.value}" is not a duration (e.g. 30m, 1h, 1h30m)`);
    else spec.graceSeconds = secs;
  }
  for (const k of ["owner", "channel", "group"] as const) {
    const v = str(k);
    if (v.value) spec[k] = v.value;
  }
  return spec;
}

function scalarReader(map: YAMLMap, path: string, at: At) {
  return (k: string): { value?: string; node?: Node } => {
    const n = map.get(k, true) as Node | undefined;
    if (n === undefined) return {};
    if (!isScalar(n) || n.value === null || typeof n.value === "object") {
      at(n, `${path}.${k}`, "expected a text value");
      return { node: n };
    }
    return { value: String(n.value).trim(), node: n };
  };
}

function readDataset(node: Node, path: string, defaultTimezone: string, at: At): DatasetSpec | undefined {
  if (!isMap(node)) {
    at(node, path, "expected a mapping like `{ name: analytics.fct_orders, max_age: 26h }`");
    return undefined;
  }
  const map = node as YAMLMap;
  for (const pair of map.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : "?";
    if (!DATASET_KEYS.includes(k)) {
      at(pair.key as Node, `${path}.${k}`, `unknown field (fields: ${DATASET_KEYS.join(", ")})`);
    }
  }
  const str = scalarReader(map, path, at);
  const name = str("name");
  if (!name.value) {
    at(name.node ?? node, `${path}.name`, "is required");
    return undefined;
  }
  const spec: DatasetSpec = { name: name.value, timezone: defaultTimezone };
  const ns = str("namespace");
  if (ns.value) spec.namespace = ns.value;
  const tz = str("timezone");
  if (tz.value) {
    if (isValidTimeZone(tz.value)) spec.timezone = tz.value;
    else at(tz.node, `${path}.timezone`, `"${tz.value}" is not an IANA time zone (e.g. UTC, Europe/Berlin)`);
  }
  const maxAge = str("max_age");
  if (maxAge.value) {
    const secs = parseDuration(maxAge.value);
    if (!secs) at(maxAge.node, `${path}.max_age`, `"${maxAge.value}" is not a duration (e.g. 26h, 90m, 2d)`);
    else spec.maxAgeSeconds = secs;
  }
  const arrival = str("arrival");
  if (arrival.value) {
    const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(arrival.value);
    if (!m) at(arrival.node, `${path}.arrival`, `"${arrival.value}" is not a local time of day like "05:30"`);
    else spec.expectedArrival = `${m[1]!.padStart(2, "0")}:${m[2]}`;
  }
  for (const k of ["supplier", "owner"] as const) {
    const v = str(k);
    if (v.value) spec[k] = v.value;
  }
  if (
    spec.maxAgeSeconds === undefined &&
    spec.expectedArrival === undefined &&
    !spec.supplier &&
    !spec.owner
  ) {
    at(node, path, "declares nothing: give max_age, arrival, supplier or owner");
  }
  return spec;
}

export function loadHoustonFile(file: string | undefined, defaultTimezone: string): HoustonFile {
  if (!file) return { jobs: [], datasets: [] };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new HoustonFileError([`${file}: cannot be read (${(err as Error).message}); fix HOUSTON_CONFIG`]);
  }
  return parseHoustonFile(text, file, defaultTimezone);
}
