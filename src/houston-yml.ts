// houston.yml: monitors as code. `jobs:` and `datasets:` declare what is expected of each
// job and dataset (by name, or by a `match:` name pattern), `defaults:` where alerts go and
// when they are held back. Every problem is reported as file:line:column plus the field
// path and how to fix it. Parsing is pure: the environment's fallbacks (alert channel,
// PagerDuty routing key) come in as parameters of `monitorConfig`.
import { readFileSync } from "node:fs";
import { CronExpressionParser } from "cron-parser";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLMap } from "yaml";
import { isValidTimeZone } from "./config.ts";
import { SEVERITIES, type Severity } from "./db/schema.ts";
import { validateSchedule } from "./db/slots.ts";
import { lineageName, parseDatasetRef } from "./ingest/dataset-names.ts";
import { DEFAULT_NAMESPACE } from "./ingest/events.ts";
import { SIZES } from "./ingest/limits.ts";
import { unstorable } from "./ingest/text.ts";
import { namePattern, namePatternProblem } from "./name-pattern.ts";
import {
  type ConfigSubscription,
  parseSubscription,
  SubscriptionSyntaxError,
} from "./digests/subscriptions.ts";
import type { AnomalySettings } from "./digests/types.ts";

export class HoustonFileError extends Error {
  override name = "HoustonFileError";
  constructor(readonly problems: string[]) {
    super(`houston.yml is not valid:\n  ${problems.join("\n  ")}`);
  }
}

/** A fixed limit, or a factor of the job's p95 duration over the last 14 days. */
export type MaxDuration = { seconds: number } | { p95Factor: number };

/** Alerting fields a job entry, a job `match:` rule and (some) `defaults:` share. */
interface JobMonitorFields {
  /** A running run longer than this is a long_run breach. */
  maxDuration?: MaxDuration;
  /** This many consecutive failures page (failure_streak breach). */
  failureStreak?: number;
  owner?: string;
  channel?: string;
  routingKey?: string;
  severity?: Severity;
}

export interface JobSpec extends JobMonitorFields {
  name: string;
  /** Omitted → applies to the job of this name in any namespace. */
  namespace?: string;
  schedule?: string;
  timezone: string;
  graceSeconds: number;
  group?: string;
  /** Anomaly detection settings for this job in the anomalies digest (win over the subscription's). */
  anomalies?: Partial<AnomalySettings>;
}

/** A `jobs:` entry with `match:` instead of `name:`: alerting settings for every job it matches. */
export interface JobRule extends JobMonitorFields {
  /** Name pattern, `*` matches anything (case-insensitive); may be `namespace/name`. */
  match: string;
  namespace?: string;
}

interface DatasetMonitorFields {
  /** How long after `arrival` a missing delivery becomes a late_arrival breach. */
  arrivalGraceSeconds?: number;
  owner?: string;
  channel?: string;
  routingKey?: string;
  severity?: Severity;
}

export interface DatasetSpec extends DatasetMonitorFields {
  name: string;
  /** Omitted → applies to the dataset of this name in any namespace. */
  namespace?: string;
  /** Stale when the last update is older than this. */
  maxAgeSeconds?: number;
  /** A source delivery expected each day by this local time, "HH:MM". */
  expectedArrival?: string;
  timezone: string;
  supplier?: string;
  /**
   * Other names of this dataset in the lineage graph (`namespace/name` or a plain name),
   * stored as lineage names (src/ingest/dataset-names.ts): edges under any of them are the
   * dataset's own.
   */
  aliases?: string[];
}

/** A `datasets:` entry with `match:` instead of `name:`. */
export interface DatasetRule extends DatasetMonitorFields {
  match: string;
  namespace?: string;
}

/** Local times "HH:MM"; `from` later than `to` spans midnight ("22:00-07:00"). */
export interface QuietHours {
  from: string;
  to: string;
  timezone: string;
}

/** Breaches of matching subjects are recorded but neither posted nor paged. */
export type MaintenanceWindow =
  | { subject: string; start: Date; end: Date }
  | { subject: string; cron: string; timezone: string; durationSeconds: number };

export interface MonitorDefaults {
  /** Slack channel for subjects without one (else HOUSTON_ALERT_CHANNEL). */
  alertChannel?: string;
  /** PagerDuty routing key for subjects without one (else PAGERDUTY_ROUTING_KEY). */
  routingKey?: string;
  severity?: Severity;
  /** Re-post unacknowledged incidents this often; 0 = never. Default 1 h. */
  reminderSeconds?: number;
  quietHours?: QuietHours;
  maintenance: MaintenanceWindow[];
  maxDuration?: MaxDuration;
  failureStreak?: number;
  arrivalGraceSeconds?: number;
  /** Anomaly settings every anomalies digest starts from (a subscription's own, then a job's, win). */
  anomalies?: Partial<AnomalySettings>;
}

export interface HoustonFile {
  path?: string;
  /** Entries with `name:` (synced to the database: schedules, SLAs, owner, channel). */
  jobs: JobSpec[];
  datasets: DatasetSpec[];
  /** Entries with `match:` (alerting settings only). */
  jobRules?: JobRule[];
  datasetRules?: DatasetRule[];
  defaults?: MonitorDefaults;
  /** `subscriptions:` digests to post (synced at start like jobs; removed entries end). */
  subscriptions?: ConfigSubscription[];
}

const DURATION = /^(?:(\d+)d)?\s*(?:(\d+)h)?\s*(?:(\d+)m(?:in)?)?\s*(?:(\d+)s)?$/;

/** "90s", "15m", "1h30m", "2d" → seconds; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m || text.trim() === "") return undefined;
  const [, d = "0", h = "0", mi = "0", s = "0"] = m;
  return Number(d) * 86400 + Number(h) * 3600 + Number(mi) * 60 + Number(s);
}

const P95 = /^p95\s*(?:x|×|\*)\s*(\d+(?:\.\d+)?)$|^(\d+(?:\.\d+)?)\s*(?:x|×|\*)\s*p95$/i;

/** "90m" → { seconds: 5400 }; "p95 x 2" (or "p95 × 1.5", "2 x p95") → { p95Factor: 2 }. */
export function parseMaxDuration(text: string): MaxDuration | undefined {
  const m = P95.exec(text.trim());
  if (m) {
    const factor = Number(m[1] ?? m[2]);
    return factor >= 1 ? { p95Factor: factor } : undefined;
  }
  const secs = parseDuration(text);
  return secs ? { seconds: secs } : undefined;
}

const SECTIONS = ["jobs", "datasets", "defaults", "subscriptions"];
const JOB_KEYS = [
  "name",
  "match",
  "namespace",
  "schedule",
  "every",
  "timezone",
  "grace",
  "max_duration",
  "failure_streak",
  "owner",
  "channel",
  "routing_key",
  "severity",
  "group",
  "anomalies",
];
/** Fields that describe one job's schedule or identity: a `match:` rule cannot set them. */
const JOB_NAME_ONLY = ["schedule", "every", "timezone", "grace", "group", "anomalies"];
const DATASET_KEYS = [
  "name",
  "match",
  "namespace",
  "max_age",
  "arrival",
  "arrival_grace",
  "timezone",
  "supplier",
  "owner",
  "channel",
  "routing_key",
  "severity",
  "aliases",
];
const DATASET_NAME_ONLY = ["max_age", "arrival", "timezone", "supplier", "aliases"];
/** Aliases of one dataset: far more than any table has names. */
export const MAX_ALIASES = 100;
const DEFAULT_KEYS = [
  "alert_channel",
  "routing_key",
  "severity",
  "reminder",
  "quiet_hours",
  "maintenance",
  "max_duration",
  "failure_streak",
  "arrival_grace",
  "anomalies",
];
const MAINTENANCE_KEYS = ["start", "end", "duration", "subject", "timezone"];

type At = (node: Node | null | undefined, field: string, msg: string) => void;
type Reader = (k: string) => { value?: string; node?: Node };

const isNull = (n: Node | undefined) => n === undefined || (isScalar(n) && n.value === null);

export function parseHoustonFile(text: string, file: string, defaultTimezone: string): HoustonFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const problems: string[] = [];
  const at: At = (node, field, msg) => {
    const pos = node?.range ? lc.linePos(node.range[0]) : undefined;
    problems.push(`${file}${pos ? `:${pos.line}:${pos.col}` : ""}: ${field}: ${msg}`);
  };
  for (const e of doc.errors) {
    const pos = lc.linePos(e.pos[0]);
    problems.push(`${file}:${pos.line}:${pos.col}: ${e.message.split("\n")[0]}`);
  }
  if (problems.length) throw new HoustonFileError(problems);
  const out: HoustonFile = {
    path: file,
    jobs: [],
    datasets: [],
    jobRules: [],
    datasetRules: [],
    defaults: { maintenance: [] },
  };
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
  const defaultsNode = root.get("defaults", true) as Node | undefined;
  if (!isNull(defaultsNode)) out.defaults = readDefaults(defaultsNode!, defaultTimezone, at);
  const jobsNode = root.get("jobs", true) as Node | undefined;
  if (!isNull(jobsNode)) {
    if (!isSeq(jobsNode)) at(jobsNode, "jobs", "expected a list of jobs (each item starts with `- name:`)");
    else {
      const seen = new Set<string>();
      jobsNode.items.forEach((item, i) => {
        const spec = readJob(item as Node, `jobs[${i}]`, defaultTimezone, at);
        if (!spec) return;
        if ("match" in spec) {
          out.jobRules!.push(spec);
          return;
        }
        const id = `${spec.namespace ?? "*"}/${spec.name}`;
        if (seen.has(id)) at(item as Node, `jobs[${i}].name`, `job "${spec.name}" is declared twice`);
        seen.add(id);
        out.jobs.push(spec);
      });
    }
  }
  const subsNode = root.get("subscriptions", true) as Node | undefined;
  if (!isNull(subsNode)) {
    out.subscriptions = [];
    if (!isSeq(subsNode))
      at(
        subsNode,
        "subscriptions",
        "expected a list of digests (each item starts with `- channel:`, then report and schedule)",
      );
    else {
      const seen = new Set<string>();
      subsNode.items.forEach((item, i) => {
        const sub = readSubscription(item as Node, `subscriptions[${i}]`, defaultTimezone, at);
        if (!sub) return;
        const id = [
          sub.channel,
          sub.report,
          sub.cadence,
          sub.weekday,
          sub.localTime,
          sub.environment,
          sub.group,
        ].join("|");
        if (seen.has(id))
          at(
            item as Node,
            `subscriptions[${i}]`,
            `the ${sub.report} digest for ${sub.channel} at this time is declared twice`,
          );
        seen.add(id);
        out.subscriptions!.push(sub);
      });
    }
  }
  const datasetsNode = root.get("datasets", true) as Node | undefined;
  if (!isNull(datasetsNode)) {
    if (!isSeq(datasetsNode))
      at(datasetsNode, "datasets", "expected a list of datasets (each item starts with `- name:`)");
    else {
      const seen = new Set<string>();
      const named: { spec: DatasetSpec; node: Node; index: number }[] = [];
      datasetsNode.items.forEach((item, i) => {
        const spec = readDataset(item as Node, `datasets[${i}]`, defaultTimezone, at);
        if (!spec) return;
        if ("match" in spec) {
          out.datasetRules!.push(spec);
          return;
        }
        const id = `${spec.namespace ?? "*"}/${spec.name}`;
        if (seen.has(id)) at(item as Node, `datasets[${i}].name`, `dataset "${spec.name}" is declared twice`);
        seen.add(id);
        out.datasets.push(spec);
        named.push({ spec, node: item as Node, index: i });
      });
      aliasProblems(named, at);
    }
  }
  if (problems.length) throw new HoustonFileError(problems);
  return out;
}

/** severity, owner, channel and routing_key: the alerting fields jobs and datasets share. */
function readAlerting(
  str: Reader,
  path: string,
  at: At,
  fields: { severity?: Severity; owner?: string; channel?: string; routingKey?: string },
): void {
  const severity = readSeverity(str, path, at);
  if (severity) fields.severity = severity;
  for (const [k, field] of [
    ["owner", "owner"],
    ["channel", "channel"],
    ["routing_key", "routingKey"],
  ] as const) {
    const v = str(k);
    if (v.value) fields[field] = v.value;
  }
}

function scalarReader(map: YAMLMap, path: string, at: At): Reader {
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

function checkKeys(map: YAMLMap, path: string, keys: string[], at: At): void {
  for (const pair of map.items) {
    const k = isScalar(pair.key) ? String(pair.key.value) : "?";
    if (!keys.includes(k)) at(pair.key as Node, `${path}.${k}`, `unknown field (fields: ${keys.join(", ")})`);
  }
}

/** Reads `name:` or `match:`; reports a missing name or both. */
function readIdentity(
  str: Reader,
  node: Node,
  path: string,
  at: At,
): { name: string } | { match: string } | undefined {
  const name = str("name");
  const match = str("match");
  if (name.value && match.value) {
    at(match.node, `${path}.match`, "use either name or match, not both");
    return undefined;
  }
  if (match.value) {
    const problem = namePatternProblem(match.value);
    if (problem) {
      at(match.node, `${path}.match`, problem);
      return undefined;
    }
    return { match: match.value };
  }
  if (!name.value) {
    at(name.node ?? match.node ?? node, `${path}.name`, "is required");
    return undefined;
  }
  return { name: name.value };
}

function refuseOnRule(map: YAMLMap, path: string, fields: string[], what: string, at: At): void {
  for (const k of fields) {
    const n = map.get(k, true) as Node | undefined;
    if (n !== undefined)
      at(n, `${path}.${k}`, `a \`match:\` entry cannot set ${k} (it belongs to one ${what}: use \`name:\`)`);
  }
}

function readSeverity(str: Reader, path: string, at: At): Severity | undefined {
  const v = str("severity");
  if (!v.value) return undefined;
  const s = v.value.toLowerCase();
  if ((SEVERITIES as readonly string[]).includes(s)) return s as Severity;
  at(v.node, `${path}.severity`, `"${v.value}" is not a severity (one of: ${SEVERITIES.join(", ")})`);
  return undefined;
}

function readMaxDuration(str: Reader, path: string, at: At): MaxDuration | undefined {
  const v = str("max_duration");
  if (!v.value) return undefined;
  const d = parseMaxDuration(v.value);
  if (!d) at(v.node, `${path}.max_duration`, `"${v.value}" is not a duration (e.g. 90m, 2h) or "p95 x 2"`);
  return d;
}

function readStreak(str: Reader, path: string, at: At): number | undefined {
  const v = str("failure_streak");
  if (!v.value) return undefined;
  if (/^\d+$/.test(v.value) && Number(v.value) >= 1 && Number(v.value) <= 100) return Number(v.value);
  at(v.node, `${path}.failure_streak`, `"${v.value}" is not a number of failures from 1 to 100 (e.g. 2)`);
  return undefined;
}

function readGraceLike(str: Reader, key: string, path: string, at: At, max?: number): number | undefined {
  const v = str(key);
  if (!v.value) return undefined;
  const secs = parseDuration(v.value);
  if (secs === undefined || (max !== undefined && secs >= max)) {
    at(
      v.node,
      `${path}.${key}`,
      `"${v.value}" is not a duration${max ? ` under ${max / 3600}h` : ""} (e.g. 30m, 1h, 1h30m)`,
    );
    return undefined;
  }
  return secs;
}

function readTimezone(str: Reader, path: string, at: At): string | undefined {
  const tz = str("timezone");
  if (!tz.value) return undefined;
  if (isValidTimeZone(tz.value)) return tz.value;
  at(tz.node, `${path}.timezone`, `"${tz.value}" is not an IANA time zone (e.g. UTC, Europe/Berlin)`);
  return undefined;
}

function readJob(node: Node, path: string, defaultTimezone: string, at: At): JobSpec | JobRule | undefined {
  if (!isMap(node)) {
    at(node, path, 'expected a mapping like `{ name: nightly_orders, schedule: "0 2 * * *" }`');
    return undefined;
  }
  const map = node as YAMLMap;
  checkKeys(map, path, JOB_KEYS, at);
  const str = scalarReader(map, path, at);
  const identity = readIdentity(str, node, path, at);
  if (!identity) return undefined;
  const fields: JobMonitorFields = {};
  const maxDuration = readMaxDuration(str, path, at);
  if (maxDuration) fields.maxDuration = maxDuration;
  const streak = readStreak(str, path, at);
  if (streak !== undefined) fields.failureStreak = streak;
  readAlerting(str, path, at, fields);
  const ns = str("namespace");
  if ("match" in identity) {
    refuseOnRule(map, path, JOB_NAME_ONLY, "job", at);
    return { match: identity.match, ...(ns.value ? { namespace: ns.value } : {}), ...fields };
  }
  const spec: JobSpec = { name: identity.name, timezone: defaultTimezone, graceSeconds: 3600 };
  if (ns.value) spec.namespace = ns.value;
  const tz = readTimezone(str, path, at);
  if (tz) spec.timezone = tz;
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
  const grace = readGraceLike(str, "grace", path, at);
  if (grace !== undefined) spec.graceSeconds = grace;
  const group = str("group");
  if (group.value) spec.group = group.value;
  const anomalies = map.get("anomalies", true) as Node | undefined;
  if (!isNull(anomalies)) {
    const a = readAnomalies(anomalies!, `${path}.anomalies`, at);
    if (a) spec.anomalies = a;
  }
  return { ...spec, ...fields };
}

function readDataset(
  node: Node,
  path: string,
  defaultTimezone: string,
  at: At,
): DatasetSpec | DatasetRule | undefined {
  if (!isMap(node)) {
    at(node, path, "expected a mapping like `{ name: analytics.fct_orders, max_age: 26h }`");
    return undefined;
  }
  const map = node as YAMLMap;
  checkKeys(map, path, DATASET_KEYS, at);
  const str = scalarReader(map, path, at);
  const identity = readIdentity(str, node, path, at);
  if (!identity) return undefined;
  const fields: DatasetMonitorFields = {};
  const grace = readGraceLike(str, "arrival_grace", path, at, 86400);
  if (grace !== undefined) fields.arrivalGraceSeconds = grace;
  readAlerting(str, path, at, fields);
  const ns = str("namespace");
  if ("match" in identity) {
    refuseOnRule(map, path, DATASET_NAME_ONLY, "dataset", at);
    if (declaresNothing(map))
      at(node, path, "declares nothing: give arrival_grace, owner, channel, routing_key or severity");
    return { match: identity.match, ...(ns.value ? { namespace: ns.value } : {}), ...fields };
  }
  const spec: DatasetSpec = { name: identity.name, timezone: defaultTimezone };
  if (ns.value) spec.namespace = ns.value;
  const tz = readTimezone(str, path, at);
  if (tz) spec.timezone = tz;
  const maxAge = str("max_age");
  if (maxAge.value) {
    const secs = parseDuration(maxAge.value);
    if (!secs) at(maxAge.node, `${path}.max_age`, `"${maxAge.value}" is not a duration (e.g. 26h, 90m, 2d)`);
    else spec.maxAgeSeconds = secs;
  }
  const arrival = str("arrival");
  if (arrival.value) {
    const hm = parseClock(arrival.value);
    if (!hm)
      at(arrival.node, `${path}.arrival`, `"${arrival.value}" is not a local time of day like "05:30"`);
    else spec.expectedArrival = hm;
  }
  const supplier = str("supplier");
  if (supplier.value) spec.supplier = supplier.value;
  const aliasesNode = map.get("aliases", true) as Node | undefined;
  const aliases = isNull(aliasesNode) ? undefined : readAliases(aliasesNode!, `${path}.aliases`, at);
  if (aliases?.length) spec.aliases = aliases.map(([a]) => a);
  const full = { ...spec, ...fields };
  if (aliases?.length)
    aliasNodes.set(
      full,
      aliases.map(([, n, where]) => [n, where]),
    );
  if (declaresNothing(map))
    at(node, path, "declares nothing: give max_age, arrival, supplier, owner or aliases");
  return full;
}

/** Where each alias of a dataset entry was written (its node and field path), for later problems. */
const aliasNodes = new WeakMap<DatasetSpec, [Node, string][]>();

/** `aliases:` — a list of dataset names (`namespace/name` or a plain name), or one name. */
function readAliases(node: Node, path: string, at: At): [string, Node, string][] | undefined {
  const items = isSeq(node) ? (node.items as Node[]) : isScalar(node) ? [node] : undefined;
  if (!items) {
    at(
      node,
      path,
      'expected a list of dataset names, like `[warehouse/analytics.fct_orders, "postgres://db:5432/shop.analytics.orders"]`',
    );
    return undefined;
  }
  if (items.length > MAX_ALIASES) {
    at(node, path, `has ${items.length} aliases; at most ${MAX_ALIASES} are accepted`);
    return undefined;
  }
  const out: [string, Node, string][] = [];
  items.forEach((item, i) => {
    const where = isSeq(node) ? `${path}[${i}]` : path;
    if (!isScalar(item) || item.value === null || typeof item.value === "object") {
      at(item, where, "expected a dataset name (`namespace/name` or a name)");
      return;
    }
    const text = String(item.value).trim();
    const ref = parseDatasetRef(text);
    const problem = unstorable(text);
    if (text === "") at(item, where, "must not be empty");
    else if (problem) at(item, where, problem);
    else if (ref.namespace.length > SIZES.namespace)
      at(
        item,
        where,
        `its namespace is ${ref.namespace.length} characters long; at most ${SIZES.namespace} are accepted`,
      );
    else if (ref.name.length > SIZES.datasetName)
      at(
        item,
        where,
        `its name is ${ref.name.length} characters long; at most ${SIZES.datasetName} are accepted`,
      );
    else out.push([text, item, where]);
  });
  return out;
}

/**
 * Aliases that cannot work: a dataset's own name, another declared dataset's name, or a
 * name already standing for another dataset (a name means one dataset in the graph).
 * `entries` are the `name:` entries with their node and index in the file.
 */
function aliasProblems(entries: { spec: DatasetSpec; node: Node; index: number }[], at: At): void {
  const owner = new Map<string, DatasetSpec>();
  for (const e of entries) owner.set(datasetLineageName(e.spec), e.spec);
  const taken = new Map<string, DatasetSpec>();
  for (const { spec, node, index } of entries) {
    const aliases = spec.aliases ?? [];
    const nodes = aliasNodes.get(spec) ?? [];
    aliases.forEach((a, j) => {
      const name = lineageName(parseDatasetRef(a));
      const [aliasNode, where] = nodes[j] ?? [node, `datasets[${index}].aliases`];
      const at1 = (msg: string) => at(aliasNode, where, msg);
      const own = owner.get(name);
      const before = taken.get(name);
      if (own === spec) at1(`"${a}" is this dataset's own name (${name}), not another one`);
      else if (own)
        at1(
          `"${a}" is the name of dataset "${own.name}" declared in this file; a name stands for one dataset only`,
        );
      else if (before && before !== spec)
        at1(`"${a}" is already an alias of dataset "${before.name}"; a name stands for one dataset only`);
      else taken.set(name, spec);
    });
  }
}

/** The lineage name a `datasets:` entry stands for (its namespace, else the default one). */
export function datasetLineageName(spec: Pick<DatasetSpec, "name" | "namespace">): string {
  return lineageName({ namespace: spec.namespace ?? DEFAULT_NAMESPACE, name: spec.name });
}

/** houston.yml's aliases as (alias, dataset) lineage names, what dataset_aliases holds. */
export function datasetAliases(specs: DatasetSpec[]): { alias: string; dataset: string }[] {
  return specs.flatMap((s) =>
    (s.aliases ?? []).map((a) => ({
      alias: lineageName(parseDatasetRef(a)),
      dataset: datasetLineageName(s),
    })),
  );
}

/** Only identity fields (a field with a bad value is reported as bad, not as missing). */
function declaresNothing(map: YAMLMap): boolean {
  return map.items.every((pair) =>
    ["name", "match", "namespace", "timezone"].includes(isScalar(pair.key) ? String(pair.key.value) : "?"),
  );
}

/** "5:30" / "05:30" → "05:30"; undefined when not a time of day. */
function parseClock(text: string): string | undefined {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  return m ? `${m[1]!.padStart(2, "0")}:${m[2]}` : undefined;
}

function readDefaults(node: Node, defaultTimezone: string, at: At): MonitorDefaults {
  const out: MonitorDefaults = { maintenance: [] };
  if (!isMap(node)) {
    at(node, "defaults", 'expected a mapping like `{ alert_channel: "#data-alerts", reminder: 1h }`');
    return out;
  }
  const map = node as YAMLMap;
  checkKeys(map, "defaults", DEFAULT_KEYS, at);
  const str = scalarReader(map, "defaults", at);
  const channel = str("alert_channel");
  if (channel.value) out.alertChannel = channel.value;
  const key = str("routing_key");
  if (key.value) out.routingKey = key.value;
  const severity = readSeverity(str, "defaults", at);
  if (severity) out.severity = severity;
  const reminder = str("reminder");
  if (reminder.value) {
    const secs = /^(off|never|none)$/i.test(reminder.value) ? 0 : parseDuration(reminder.value);
    if (secs === undefined || (secs > 0 && secs < 300))
      at(
        reminder.node,
        "defaults.reminder",
        `"${reminder.value}" is not a duration of at least 5m (e.g. 1h) or off`,
      );
    else out.reminderSeconds = secs;
  }
  const maxDuration = readMaxDuration(str, "defaults", at);
  if (maxDuration) out.maxDuration = maxDuration;
  const streak = readStreak(str, "defaults", at);
  if (streak !== undefined) out.failureStreak = streak;
  const grace = readGraceLike(str, "arrival_grace", "defaults", at, 86400);
  if (grace !== undefined) out.arrivalGraceSeconds = grace;
  const anomalies = map.get("anomalies", true) as Node | undefined;
  if (!isNull(anomalies)) {
    const a = readAnomalies(anomalies!, "defaults.anomalies", at);
    if (a) out.anomalies = a;
  }
  const quiet = map.get("quiet_hours", true) as Node | undefined;
  if (!isNull(quiet)) {
    const q = readQuietHours(quiet!, defaultTimezone, at);
    if (q) out.quietHours = q;
  }
  const maint = map.get("maintenance", true) as Node | undefined;
  if (!isNull(maint)) {
    if (!isSeq(maint))
      at(maint, "defaults.maintenance", "expected a list of windows (each item starts with `- start:`)");
    else
      maint.items.forEach((item, i) => {
        const w = readMaintenance(item as Node, `defaults.maintenance[${i}]`, defaultTimezone, at);
        if (w) out.maintenance.push(w);
      });
  }
  return out;
}

const HOURS_RANGE = /^\s*(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})\s*$/;

function readQuietHours(node: Node, defaultTimezone: string, at: At): QuietHours | undefined {
  const path = "defaults.quiet_hours";
  let text: string | undefined;
  let textNode: Node = node;
  let timezone = defaultTimezone;
  if (isMap(node)) {
    const map = node as YAMLMap;
    checkKeys(map, path, ["hours", "timezone"], at);
    const str = scalarReader(map, path, at);
    const hours = str("hours");
    if (!hours.value) {
      at(hours.node ?? node, `${path}.hours`, 'is required (e.g. "22:00-07:00")');
      return undefined;
    }
    text = hours.value;
    textNode = hours.node!;
    const tz = readTimezone(str, path, at);
    if (tz) timezone = tz;
    else if (str("timezone").value) return undefined;
  } else if (isScalar(node) && node.value !== null && typeof node.value !== "object") {
    text = String(node.value);
  }
  const m = text === undefined ? null : HOURS_RANGE.exec(text);
  const from = m ? parseClock(m[1]!) : undefined;
  const to = m ? parseClock(m[2]!) : undefined;
  if (!from || !to || from === to) {
    at(
      textNode,
      isMap(node) ? `${path}.hours` : path,
      `${text === undefined ? "expected" : `"${text}" is not`} a range of local times like "22:00-07:00"` +
        (isMap(node) ? "" : ' (or { hours: "22:00-07:00", timezone: Europe/Berlin })'),
    );
    return undefined;
  }
  return { from, to, timezone };
}

function readMaintenance(
  node: Node,
  path: string,
  defaultTimezone: string,
  at: At,
): MaintenanceWindow | undefined {
  if (!isMap(node)) {
    at(node, path, 'expected a mapping like `{ start: "0 2 * * 0", duration: 2h, subject: "finance_*" }`');
    return undefined;
  }
  const map = node as YAMLMap;
  checkKeys(map, path, MAINTENANCE_KEYS, at);
  const str = scalarReader(map, path, at);
  const subjectField = str("subject");
  const subject = subjectField.value ?? "*";
  const subjectProblem = namePatternProblem(subject);
  if (subjectProblem) {
    at(subjectField.node ?? node, `${path}.subject`, subjectProblem);
    return undefined;
  }
  const timezone = readTimezone(str, path, at) ?? defaultTimezone;
  const start = str("start");
  const end = str("end");
  const duration = str("duration");
  if (!start.value) {
    at(
      start.node ?? node,
      `${path}.start`,
      'is required: an ISO time ("2026-12-01T02:00:00Z") or a cron ("0 2 * * 0")',
    );
    return undefined;
  }
  if (end.value && duration.value) {
    at(duration.node, `${path}.duration`, "use either end or duration, not both");
    return undefined;
  }
  let durationSeconds: number | undefined;
  if (duration.value) {
    durationSeconds = parseDuration(duration.value);
    if (!durationSeconds) {
      at(duration.node, `${path}.duration`, `"${duration.value}" is not a duration (e.g. 2h, 90m)`);
      return undefined;
    }
  }
  if (/^\d{4}-\d{2}-\d{2}T/.test(start.value)) {
    const s = new Date(start.value);
    if (Number.isNaN(s.getTime()) || !/(Z|[+-]\d{2}:?\d{2})$/.test(start.value)) {
      at(
        start.node,
        `${path}.start`,
        `"${start.value}" is not an ISO time with a zone (e.g. 2026-12-01T02:00:00Z)`,
      );
      return undefined;
    }
    let e: Date | undefined;
    if (end.value) {
      e = new Date(end.value);
      if (Number.isNaN(e.getTime()) || !/(Z|[+-]\d{2}:?\d{2})$/.test(end.value) || e <= s) {
        at(end.node, `${path}.end`, `"${end.value}" is not an ISO time with a zone after start`);
        return undefined;
      }
    } else if (durationSeconds) e = new Date(s.getTime() + durationSeconds * 1000);
    else {
      at(node, path, "needs end or duration");
      return undefined;
    }
    return { subject, start: s, end: e };
  }
  const fields = start.value.split(/\s+/);
  try {
    if (fields.length !== 5) throw new Error(`"${start.value}" has ${fields.length} fields; expected 5`);
    CronExpressionParser.parse(start.value, { tz: timezone });
  } catch (err) {
    at(
      start.node,
      `${path}.start`,
      `neither an ISO time nor a cron expression: ${(err as Error).message.split("\n")[0]}`,
    );
    return undefined;
  }
  if (!durationSeconds) {
    at(end.node ?? node, `${path}.duration`, "is required for a recurring (cron) window (e.g. 2h)");
    return undefined;
  }
  return { subject, cron: start.value, timezone, durationSeconds };
}

const ANOMALY_KEYS = ["training_days", "min_points", "sensitivity", "seasonality"];

/** `anomalies: { training_days: 14, min_points: 7, sensitivity: 3, seasonality: false }`. */
function readAnomalies(node: Node, path: string, at: At): Partial<AnomalySettings> | undefined {
  if (!isMap(node)) {
    at(
      node,
      path,
      "expected a mapping like `{ training_days: 14, min_points: 7, sensitivity: 3, seasonality: false }`",
    );
    return undefined;
  }
  const map = node as YAMLMap;
  checkKeys(map, path, ANOMALY_KEYS, at);
  const str = scalarReader(map, path, at);
  const out: Partial<AnomalySettings> = {};
  const training = str("training_days");
  if (training.value) {
    const m = /^(\d+)\s*d?$/.exec(training.value);
    const n = m ? Number(m[1]) : NaN;
    if (!(n >= 3 && n <= 365))
      at(
        training.node,
        `${path}.training_days`,
        `"${training.value}" is not a number of days from 3 to 365 (e.g. 14)`,
      );
    else out.trainingDays = n;
  }
  const minPoints = str("min_points");
  if (minPoints.value) {
    const n = /^\d+$/.test(minPoints.value) ? Number(minPoints.value) : NaN;
    if (!(n >= 3 && n <= 365))
      at(
        minPoints.node,
        `${path}.min_points`,
        `"${minPoints.value}" is not a whole number from 3 to 365 (e.g. 7)`,
      );
    else out.minPoints = n;
  }
  const sensitivity = str("sensitivity");
  if (sensitivity.value) {
    const n = /^\d+(\.\d+)?$/.test(sensitivity.value) ? Number(sensitivity.value) : NaN;
    if (!(n >= 1 && n <= 10))
      at(
        sensitivity.node,
        `${path}.sensitivity`,
        `"${sensitivity.value}" is not a number from 1 to 10 (e.g. 3 = 3σ)`,
      );
    else out.sensitivity = n;
  }
  const seasonality = str("seasonality");
  if (seasonality.value) {
    if (/^(true|yes|on|weekday|weekly)$/i.test(seasonality.value)) out.seasonality = true;
    else if (/^(false|no|off|none)$/i.test(seasonality.value)) out.seasonality = false;
    else at(seasonality.node, `${path}.seasonality`, `"${seasonality.value}" is not true or false`);
  }
  if (out.trainingDays !== undefined && out.minPoints !== undefined && out.minPoints > out.trainingDays)
    at(
      minPoints.node,
      `${path}.min_points`,
      `is more than training_days (${out.trainingDays}): no series could ever qualify`,
    );
  return out;
}

const SUBSCRIPTION_KEYS = [
  "channel",
  "report",
  "schedule",
  "timezone",
  "env",
  "environment",
  "group",
  "anomalies",
];

function readSubscription(
  node: Node,
  path: string,
  defaultTimezone: string,
  at: At,
): ConfigSubscription | undefined {
  if (!isMap(node)) {
    at(
      node,
      path,
      'expected a mapping like `{ channel: "#data-digests", report: sla, schedule: "daily 09:00" }`',
    );
    return undefined;
  }
  const map = node as YAMLMap;
  checkKeys(map, path, SUBSCRIPTION_KEYS, at);
  const str = scalarReader(map, path, at);
  const channel = str("channel");
  const report = str("report");
  const schedule = str("schedule");
  let ok = true;
  if (!channel.value) {
    at(
      channel.node ?? node,
      `${path}.channel`,
      'is required: a channel id (C0123…) or "#name" the bot is in',
    );
    ok = false;
  }
  if (!report.value) {
    at(report.node ?? node, `${path}.report`, "is required: sla, anomalies or resources");
    ok = false;
  }
  if (!schedule.value) {
    at(schedule.node ?? node, `${path}.schedule`, 'is required: "daily 09:00" or "weekly mon 09:00"');
    ok = false;
  }
  const timezone = readTimezone(str, path, at);
  if (str("timezone").value && !timezone) ok = false;
  const anomaliesNode = map.get("anomalies", true) as Node | undefined;
  let anomalies: Partial<AnomalySettings> | undefined;
  if (!isNull(anomaliesNode)) {
    anomalies = readAnomalies(anomaliesNode!, `${path}.anomalies`, at);
    if (!anomalies) ok = false;
  }
  if (!ok) return undefined;
  let spec;
  try {
    spec = parseSubscription(`${report.value} ${schedule.value}`, timezone ?? defaultTimezone);
  } catch (err) {
    if (!(err instanceof SubscriptionSyntaxError)) throw err;
    const bad = /is not a digest|Which digest/.test(err.message);
    // The Slack grammar's example would mislead here: say it in houston.yml's terms.
    at(
      bad ? report.node : schedule.node,
      `${path}.${bad ? "report" : "schedule"}`,
      bad
        ? `"${report.value}" is not a digest (one of: sla, anomalies, resources)`
        : `"${schedule.value}" is not a schedule: ${err.message.replace(/ Write it as.*$/s, "")} ` +
            '(write "daily 09:00" or "weekly mon 09:00"; zone, env and group are fields of their own)',
    );
    return undefined;
  }
  if (spec.environment || spec.group || spec.settings || spec.timezone !== (timezone ?? defaultTimezone)) {
    at(
      schedule.node,
      `${path}.schedule`,
      "holds more than a schedule: put timezone, env, group and anomalies in their own fields",
    );
    return undefined;
  }
  const env = str("env").value ?? str("environment").value;
  const group = str("group").value;
  if (anomalies && spec.report !== "anomalies") {
    at(
      anomaliesNode,
      `${path}.anomalies`,
      `the ${spec.report} digest has no anomaly settings (only report: anomalies)`,
    );
    return undefined;
  }
  return {
    ...spec,
    channel: channel.value!,
    ...(env ? { environment: env.toLowerCase() } : {}),
    ...(group ? { group } : {}),
    ...(anomalies && Object.keys(anomalies).length ? { settings: anomalies } : {}),
  };
}

/** Per-job anomaly settings by job name (DigestRequest.jobAnomalies) and the file-wide defaults. */
export function digestAnomalySettings(file: Pick<HoustonFile, "jobs" | "defaults">): {
  defaults?: Partial<AnomalySettings>;
  jobs: Record<string, Partial<AnomalySettings>>;
} {
  const jobs: Record<string, Partial<AnomalySettings>> = {};
  for (const j of file.jobs) if (j.anomalies) jobs[j.name] = { ...jobs[j.name], ...j.anomalies };
  return { ...(file.defaults?.anomalies ? { defaults: file.defaults.anomalies } : {}), jobs };
}

export function loadHoustonFile(file: string | undefined, defaultTimezone: string): HoustonFile {
  if (!file) return { jobs: [], datasets: [], jobRules: [], datasetRules: [], defaults: { maintenance: [] } };
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new HoustonFileError([`${file}: cannot be read (${(err as Error).message}); fix HOUSTON_CONFIG`]);
  }
  return parseHoustonFile(text, file, defaultTimezone);
}

// ---------------------------------------------------------------------------------------
// Effective monitor settings: a job's or dataset's own entry, else the first `match:`
// rule (in file order) that sets the field, else `defaults:`, else the environment.

export const DEFAULT_FAILURE_STREAK = 2;
export const DEFAULT_REMINDER_SECONDS = 3600;
export const DEFAULT_ARRIVAL_GRACE_SECONDS = 1800;
export const DEFAULT_SEVERITY: Severity = "error";

/** Fallbacks that live in the environment; passed in so the parser never reads process.env. */
export interface MonitorEnv {
  /** HOUSTON_ALERT_CHANNEL */
  alertChannel?: string | undefined;
  /** PAGERDUTY_ROUTING_KEY */
  routingKey?: string | undefined;
  /** Public base URL of Houston, for links in pages. */
  linkBase?: string | undefined;
}

export interface JobMonitor {
  maxDuration?: MaxDuration;
  failureStreak: number;
  owner?: string;
  /** Where breaches are posted; undefined = nowhere to post. */
  channel?: string;
  /** PagerDuty routing key; undefined = never paged. */
  routingKey?: string;
  /** Severity of the job's paging breaches (missed run, late start, long run, failure streak). */
  severity: Severity;
}

export interface DatasetMonitor {
  arrivalGraceSeconds: number;
  owner?: string;
  channel?: string;
  routingKey?: string;
  severity: Severity;
}

export interface SubjectRef {
  namespace: string;
  name: string;
  /** What the database already knows (jobs.owner / slack_channel, from houston.yml or events). */
  owner?: string | null | undefined;
  channel?: string | null | undefined;
}

export interface MonitorConfig {
  job(ref: SubjectRef): JobMonitor;
  dataset(ref: SubjectRef): DatasetMonitor;
  /** Re-post unacknowledged incidents this often; 0 = never. */
  reminderMs: number;
  quietHours?: QuietHours;
  maintenance: MaintenanceWindow[];
  linkBase?: string;
  /** True when `at` falls in quiet hours (no pages except critical). */
  inQuietHours(at: Date): boolean;
  /** The maintenance window covering `at` for any of these names (subject, group, …), if any. */
  maintenanceFor(at: Date, names: string[]): MaintenanceWindow | undefined;
}

function matches(pattern: string, namespace: string | undefined, ref: SubjectRef): boolean {
  if (namespace !== undefined && namespace !== ref.namespace) return false;
  const re = namePattern(pattern);
  return re.test(ref.name) || re.test(`${ref.namespace}/${ref.name}`);
}

function pick<T, K extends keyof T>(sources: (T | undefined)[], key: K): T[K] | undefined {
  for (const s of sources) if (s && s[key] !== undefined) return s[key];
  return undefined;
}

/** Local minutes since midnight of `at` in the zone. */
function localMinutes(at: Date, timezone: string): number {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: timezone,
    hourCycle: "h23",
    hour: "2-digit",
    minute: "2-digit",
  }).formatToParts(at);
  const h = Number(parts.find((p) => p.type === "hour")?.value);
  const m = Number(parts.find((p) => p.type === "minute")?.value);
  return h * 60 + m;
}

const clockMinutes = (hm: string) => Number(hm.slice(0, 2)) * 60 + Number(hm.slice(3, 5));

export function inMaintenance(w: MaintenanceWindow, at: Date): boolean {
  if ("start" in w) return w.start.getTime() <= at.getTime() && at.getTime() < w.end.getTime();
  const it = CronExpressionParser.parse(w.cron, { tz: w.timezone, currentDate: new Date(at.getTime() + 1) });
  const last = it.prev().toDate().getTime();
  return last <= at.getTime() && at.getTime() < last + w.durationSeconds * 1000;
}

export function monitorConfig(
  file: Pick<HoustonFile, "jobs" | "datasets" | "jobRules" | "datasetRules" | "defaults">,
  env: MonitorEnv = {},
): MonitorConfig {
  const d = file.defaults ?? { maintenance: [] };
  // The entry for this namespace first, then the one for the name in any namespace.
  const byName = <T extends { name: string; namespace?: string }>(specs: T[], ref: SubjectRef) => [
    specs.find((s) => s.name === ref.name && s.namespace === ref.namespace),
    specs.find((s) => s.name === ref.name && s.namespace === undefined),
  ];
  const quiet = d.quietHours;
  const config: MonitorConfig = {
    job(ref) {
      const own = byName(file.jobs, ref);
      const rules = (file.jobRules ?? []).filter((r) => matches(r.match, r.namespace, ref));
      const layers: (JobMonitorFields | undefined)[] = [...own, ...rules];
      const out: JobMonitor = {
        failureStreak: pick(layers, "failureStreak") ?? d.failureStreak ?? DEFAULT_FAILURE_STREAK,
        severity: pick(layers, "severity") ?? d.severity ?? DEFAULT_SEVERITY,
      };
      const maxDuration = pick(layers, "maxDuration") ?? d.maxDuration;
      if (maxDuration) out.maxDuration = maxDuration;
      const owner = pick(layers, "owner") ?? ref.owner ?? undefined;
      if (owner) out.owner = owner;
      const channel = pick(layers, "channel") ?? ref.channel ?? d.alertChannel ?? env.alertChannel;
      if (channel) out.channel = channel;
      const routingKey = pick(layers, "routingKey") ?? d.routingKey ?? env.routingKey;
      if (routingKey) out.routingKey = routingKey;
      return out;
    },
    dataset(ref) {
      const own = byName(file.datasets, ref);
      const rules = (file.datasetRules ?? []).filter((r) => matches(r.match, r.namespace, ref));
      const layers: (DatasetMonitorFields | undefined)[] = [...own, ...rules];
      const out: DatasetMonitor = {
        arrivalGraceSeconds:
          pick(layers, "arrivalGraceSeconds") ?? d.arrivalGraceSeconds ?? DEFAULT_ARRIVAL_GRACE_SECONDS,
        severity: pick(layers, "severity") ?? d.severity ?? DEFAULT_SEVERITY,
      };
      const owner = pick(layers, "owner") ?? ref.owner ?? undefined;
      if (owner) out.owner = owner;
      const channel = pick(layers, "channel") ?? ref.channel ?? d.alertChannel ?? env.alertChannel;
      if (channel) out.channel = channel;
      const routingKey = pick(layers, "routingKey") ?? d.routingKey ?? env.routingKey;
      if (routingKey) out.routingKey = routingKey;
      return out;
    },
    reminderMs: (d.reminderSeconds ?? DEFAULT_REMINDER_SECONDS) * 1000,
    maintenance: d.maintenance,
    inQuietHours(at) {
      if (!quiet) return false;
      const now = localMinutes(at, quiet.timezone);
      const from = clockMinutes(quiet.from);
      const to = clockMinutes(quiet.to);
      return from < to ? now >= from && now < to : now >= from || now < to;
    },
    maintenanceFor(at, names) {
      return d.maintenance.find(
        (w) => inMaintenance(w, at) && names.some((n) => namePattern(w.subject).test(n)),
      );
    },
  };
  if (quiet) config.quietHours = quiet;
  if (env.linkBase) config.linkBase = env.linkBase;
  return config;
}
