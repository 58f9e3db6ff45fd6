// OpenLineage → Houston events, for `POST /api/v1/lineage` (Marquez-compatible, so the
// Airflow, dbt, Spark and Flink transports work unchanged). Pure: no I/O, never throws.
//
// One OpenLineage event becomes several Houston events:
//   RunEvent     → one RunEvent; on COMPLETE, one DatasetEvent per output; one TestEvent
//                  per data-quality assertion found on any input or output (any eventType:
//                  assertions are results, and Marquez's demo sends them on START).
//   DatasetEvent → one DatasetEvent (schema, rows/bytes when facets carry them).
//   JobEvent     → one JobEvent.
// Lineage edges (src/db/queries/lineage.ts): a RunEvent's inputs on START, RUNNING and
// COMPLETE are reads of its job, its outputs on COMPLETE writes (a START only announces
// them; FAIL and ABORT prove neither); a JobEvent's inputs and outputs are the job's
// declared reads and writes. OpenLineage has no standard facet counting rejected records,
// so no event yields bad_records.
//
// Decisions a later reader must know:
// - Required (→ FieldError): eventTime (all kinds, as the spec and Marquez require),
//   run.runId, job.namespace, job.name, dataset.namespace/name, and namespace/name of
//   every inputs[]/outputs[] entry (at most SIZES.lineageDatasets entries each). Any non-empty string is accepted as runId (Marquez
//   insists on a UUID; we do not). Lower-case eventType is accepted.
// - Facets are best-effort metadata: a malformed facet is skipped with a warning, never
//   refuses the event. Strings PostgreSQL text cannot hold (NUL, lone UTF-16 surrogates)
//   refuse the event in a required field and are skipped with a warning in a facet, except
//   errorMessage, whose text is kept with U+FFFD in their place (producers that cut long
//   stack traces leave half a surrogate pair behind).
// - Schema fields: nested `fields` are flattened into dotted names ("address.city"), the
//   parent kept with its own type; depth ≤ 8 levels, ≤ 5,000 fields in all. Missing type
//   → "unknown".
// - RunEvent.rows = sum of outputs' outputStatistics.rowCount on COMPLETE, when any.
// - environment only from facets that clearly carry it: an environmentVariables entry
//   named HOUSTON_ENVIRONMENT / ENVIRONMENT / ENV, a tags entry keyed environment / env
//   (run or job tags), or an "environment" / "env" key of Spark's environment-properties.
// - Ids: ol:<runId>:<EVENTTYPE|OTHER>:<eventTime as sent>:run | :out:<i> | :dq:in|out:<i>:<j>,
//   ol:dataset:<ns>:<name>:<eventTime>, ol:job:<ns>:<name>:<eventTime>; longer than 255
//   characters → ol:sha1:<hex of the full id>.
import { createHash } from "node:crypto";
import type { RunStatus } from "../db/schema.ts";
import type {
  DatasetEvent,
  DatasetName,
  FieldError,
  HoustonEvent,
  JobEvent,
  RunEvent,
  SchemaField,
  TestEvent,
} from "./events.ts";
import { LIMITS, SIZES } from "./limits.ts";
import { clipText, repaired, unstorable } from "./text.ts";
import { describe, parseTimestamp } from "./time.ts";

export type LineageMapResult =
  { ok: true; events: HoustonEvent[]; warnings: string[] } | { ok: false; errors: FieldError[] };

type Obj = Record<string, unknown>;

const MAX_ID = 255;
const MAX_NAMESPACE = 255;
const MAX_NAME = 500;
const MAX_RUN_ID = 255;
const MAX_ERROR_TEXT = 10_000;
const MAX_SHORT = 100;
const MAX_SCHEMA_DEPTH = 8;
const MAX_WARNINGS = 50;

const EVENT_TYPES: Record<string, { status: RunStatus; terminal: boolean }> = {
  START: { status: "running", terminal: false },
  RUNNING: { status: "running", terminal: false },
  OTHER: { status: "running", terminal: false },
  COMPLETE: { status: "success", terminal: true },
  FAIL: { status: "failed", terminal: true },
  ABORT: { status: "cancelled", terminal: true },
};

/** index = position of this event in the request (0 for a single-object body). */
export function mapLineageEvent(raw: unknown, index: number): LineageMapResult {
  try {
    return mapUnsafe(raw, index);
  } catch (err) {
    // Defensive only (e.g. a getter that throws): the mapper must never throw.
    return {
      ok: false,
      errors: [
        {
          index,
          field: "(event)",
          reason: `could not read the event: ${String((err as Error)?.message ?? err)}`,
        },
      ],
    };
  }
}

class Ctx {
  readonly errors: FieldError[] = [];
  readonly warnings: string[] = [];
  constructor(readonly index: number) {}

  fail(field: string, reason: string): void {
    this.errors.push({ index: this.index, field, reason });
  }

  warn(message: string): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(`event ${this.index}: ${message}`);
  }

  /** A required non-empty string at `field`. */
  requiredString(value: unknown, field: string, max: number): string | undefined {
    if (value === undefined || value === null) {
      this.fail(field, "is required (a non-empty string)");
      return undefined;
    }
    if (typeof value !== "string") {
      this.fail(field, `expected a non-empty string, got ${describe(value)}`);
      return undefined;
    }
    if (value.trim() === "") {
      this.fail(field, "must not be empty");
      return undefined;
    }
    if (value.length > max) {
      this.fail(field, `is ${value.length} characters long; at most ${max} are accepted`);
      return undefined;
    }
    const problem = unstorable(value);
    if (problem) {
      this.fail(field, problem);
      return undefined;
    }
    return value;
  }

  /** A required object at `field`; `what` names it in the reason. */
  requiredObject(value: unknown, field: string, what: string): Obj | undefined {
    if (value === undefined || value === null) {
      this.fail(field, `is required (${what})`);
      return undefined;
    }
    if (!isObj(value)) {
      this.fail(field, `expected an object (${what}), got ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  /** An optional facet string: kept when a usable string, else warned about and dropped. */
  optionalString(value: unknown, field: string, max: number): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") {
      this.warn(`${field}: expected a string, got ${describe(value)}; ignored`);
      return undefined;
    }
    const v = value.trim();
    if (v === "") return undefined;
    if (v.length > max) {
      this.warn(`${field} is ${v.length} characters long (at most ${max}); ignored`);
      return undefined;
    }
    const problem = unstorable(v);
    if (problem) {
      this.warn(`${field} ${problem}; ignored`);
      return undefined;
    }
    return v;
  }

  eventTime(raw: Obj): { date: Date; text: string } | undefined {
    const v = raw["eventTime"];
    if (v === undefined || v === null) {
      this.fail("eventTime", "is required (an ISO 8601 timestamp, e.g. 2026-11-03T02:00:00Z)");
      return undefined;
    }
    const t = parseTimestamp(v);
    if (typeof t === "string") {
      this.fail("eventTime", t);
      return undefined;
    }
    return { date: t, text: (v as string).trim() };
  }
}

function mapUnsafe(raw: unknown, index: number): LineageMapResult {
  if (!isObj(raw)) {
    return {
      ok: false,
      errors: [
        {
          index,
          field: "(event)",
          reason: `expected an OpenLineage event (a JSON object), got ${describe(raw)}`,
        },
      ],
    };
  }
  const c = new Ctx(index);
  let events: HoustonEvent[] | undefined;
  if (present(raw, "run")) events = mapRunEvent(raw, c);
  else if (present(raw, "dataset")) events = mapDatasetEvent(raw, c);
  else if (present(raw, "job")) events = mapJobEvent(raw, c);
  else {
    c.fail(
      "(event)",
      "is not an OpenLineage event: expected a RunEvent (run and job), a DatasetEvent (dataset) or a JobEvent (job)",
    );
  }
  if (c.errors.length || !events) return { ok: false, errors: c.errors };
  checkEnvelope(raw, c);
  return { ok: true, events, warnings: c.warnings };
}

/** producer and schemaURL are required by the spec; real emitters omit them, so warn only. */
function checkEnvelope(raw: Obj, c: Ctx): void {
  for (const key of ["producer", "schemaURL"] as const) {
    const v = raw[key];
    if (v === undefined || v === null || v === "") {
      c.warn(`missing ${key}; accepted (OpenLineage spec requires it)`);
    } else if (typeof v !== "string") {
      c.warn(`${key}: expected a URI string, got ${describe(v)}; accepted`);
    }
  }
}

// ---------------------------------------------------------------------------------------
// RunEvent

function mapRunEvent(raw: Obj, c: Ctx): HoustonEvent[] | undefined {
  const time = c.eventTime(raw);
  const eventType = readEventType(raw, c);
  const run = c.requiredObject(raw["run"], "run", "with runId");
  const runId = run ? c.requiredString(run["runId"], "run.runId", MAX_RUN_ID) : undefined;
  const jobRef = readJobRef(raw, c);
  const inputs = readDatasetList(raw, "inputs", c);
  const outputs = readDatasetList(raw, "outputs", c);
  if (
    c.errors.length ||
    !time ||
    eventType === undefined ||
    !run ||
    !runId ||
    !jobRef ||
    !inputs ||
    !outputs
  ) {
    return undefined;
  }

  const typeName = eventType ?? "OTHER";
  const mapping = EVENT_TYPES[typeName]!;
  const base = `ol:${runId}:${typeName}:${time.text}`;
  const runFacets = facetsOf(run);
  const jobFacets = facetsOf(jobRef.obj);

  const ev: RunEvent = {
    type: "run",
    id: makeId(`${base}:run`),
    namespace: jobRef.namespace,
    job: jobRef.name,
    runId,
    status: mapping.status,
    eventTime: time.date,
  };
  if (mapping.terminal) ev.endedAt = time.date;
  else ev.startedAt = time.date;

  const nominal = get(runFacets, "nominalTime", "nominalStartTime");
  if (nominal !== undefined && nominal !== null) {
    const t = parseTimestamp(nominal);
    if (typeof t === "string") c.warn(`run.facets.nominalTime.nominalStartTime: ${t}; ignored`);
    else ev.scheduledFor = t;
  }
  const group = c.optionalString(
    get(runFacets, "parent", "job", "name"),
    "run.facets.parent.job.name",
    MAX_NAME,
  );
  if (group) ev.group = group;
  const parentRunId = c.optionalString(
    get(runFacets, "parent", "run", "runId"),
    "run.facets.parent.run.runId",
    MAX_RUN_ID,
  );
  if (parentRunId) ev.parentRunId = parentRunId;
  const error = readErrorMessage(runFacets, c);
  if (error) ev.error = error;
  const tool = readTool(jobFacets, runFacets, c);
  if (tool) ev.tool = tool;
  const owner = readOwner(jobFacets, "job.facets.ownership", c);
  if (owner) ev.owner = owner;
  const environment = readEnvironment(runFacets, jobFacets, c);
  if (environment) ev.environment = environment;

  if (typeName !== "FAIL" && typeName !== "ABORT" && typeName !== "OTHER" && inputs.length)
    ev.inputs = inputs.map(nameOf);
  if (typeName === "COMPLETE" && outputs.length) ev.outputs = outputs.map(nameOf);

  const events: HoustonEvent[] = [ev];
  const producer = { namespace: jobRef.namespace, job: jobRef.name };

  // Outputs were only written once the run completed; a START merely declares them.
  if (typeName === "COMPLETE") {
    let totalRows: number | undefined;
    outputs.forEach((ds, i) => {
      const out: DatasetEvent = {
        type: "dataset",
        id: makeId(`${base}:out:${i}`),
        namespace: ds.namespace,
        dataset: ds.name,
        updatedAt: time.date,
        runId,
        producer,
      };
      fillDatasetFacets(out, ds.obj, `outputs[${i}]`, c);
      if (out.rows !== undefined) totalRows = (totalRows ?? 0) + out.rows;
      events.push(out);
    });
    if (totalRows !== undefined && totalRows <= LIMITS.rows) ev.rows = totalRows;
  }

  // Data-quality assertions: dbt puts them in inputs[].facets, the spec in inputFacets;
  // Marquez's demo in outputs[].facets. Look everywhere.
  const sides = [
    ["in", "inputs", inputs],
    ["out", "outputs", outputs],
  ] as const;
  for (const [tag, side, list] of sides) {
    list.forEach((ds, i) => {
      const assertions = findAssertions(ds.obj, `${side}[${i}]`, c);
      assertions.forEach((a, j) => {
        const t: TestEvent = {
          type: "test",
          id: makeId(`${base}:dq:${tag}:${i}:${j}`),
          test: a.column ? `${a.assertion} (${a.column})` : a.assertion,
          dataset: ds.name,
          datasetNamespace: ds.namespace,
          job: jobRef.name,
          jobNamespace: jobRef.namespace,
          status: a.success ? "pass" : "fail",
          at: time.date,
          runId,
        };
        if (environment) t.environment = environment;
        events.push(t);
      });
    });
  }
  return events;
}

/** undefined → invalid (error recorded); null → absent; else the upper-cased type. */
function readEventType(raw: Obj, c: Ctx): string | null | undefined {
  const v = raw["eventType"];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") {
    c.fail("eventType", `expected one of ${Object.keys(EVENT_TYPES).join(", ")}, got ${describe(v)}`);
    return undefined;
  }
  const upper = v.trim().toUpperCase();
  if (!(upper in EVENT_TYPES)) {
    c.fail("eventType", `"${clipText(v, 60)}" is not one of ${Object.keys(EVENT_TYPES).join(", ")}`);
    return undefined;
  }
  return upper;
}

interface JobRef {
  namespace: string;
  name: string;
  obj: Obj;
}

function readJobRef(raw: Obj, c: Ctx): JobRef | undefined {
  const job = c.requiredObject(raw["job"], "job", "with namespace and name");
  if (!job) return undefined;
  const namespace = c.requiredString(job["namespace"], "job.namespace", MAX_NAMESPACE);
  const name = c.requiredString(job["name"], "job.name", MAX_NAME);
  if (namespace === undefined || name === undefined) return undefined;
  return { namespace, name, obj: job };
}

interface DatasetRef {
  namespace: string;
  name: string;
  obj: Obj;
}

/** inputs / outputs: optional arrays of {namespace, name, ...}; bad entries are errors. */
function readDatasetList(raw: Obj, key: "inputs" | "outputs", c: Ctx): DatasetRef[] | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    c.fail(key, `expected an array of datasets, got ${describe(v)}`);
    return undefined;
  }
  if (v.length > SIZES.lineageDatasets) {
    c.fail(key, `has ${v.length} datasets; at most ${SIZES.lineageDatasets} are accepted`);
    return undefined;
  }
  const out: DatasetRef[] = [];
  let ok = true;
  for (let i = 0; i < v.length; i++) {
    const ref = readDatasetRef(v[i], `${key}[${i}]`, c);
    if (ref) out.push(ref);
    else ok = false;
    // Do not drown the client in errors for one broken 10,000-entry list.
    if (c.errors.length >= 20) return undefined;
  }
  return ok ? out : undefined;
}

const nameOf = (ds: DatasetRef): DatasetName => ({ namespace: ds.namespace, name: ds.name });

function readDatasetRef(v: unknown, path: string, c: Ctx): DatasetRef | undefined {
  const obj = c.requiredObject(v, path, "a dataset with namespace and name");
  if (!obj) return undefined;
  const namespace = c.requiredString(obj["namespace"], `${path}.namespace`, MAX_NAMESPACE);
  const name = c.requiredString(obj["name"], `${path}.name`, MAX_NAME);
  if (namespace === undefined || name === undefined) return undefined;
  return { namespace, name, obj };
}

function readErrorMessage(runFacets: Obj | undefined, c: Ctx): string | undefined {
  const m = get(runFacets, "errorMessage", "message");
  if (m === undefined || m === null) return undefined;
  if (typeof m !== "string") {
    c.warn(`run.facets.errorMessage.message: expected a string, got ${describe(m)}; ignored`);
    return undefined;
  }
  if (m.trim() === "") return undefined;
  const text = clipText(m, MAX_ERROR_TEXT);
  const problem = unstorable(text);
  if (!problem) return text;
  c.warn(`run.facets.errorMessage.message ${problem}; replaced by U+FFFD`);
  return repaired(text);
}

function readTool(jobFacets: Obj | undefined, runFacets: Obj | undefined, c: Ctx): string | undefined {
  const integration = c.optionalString(
    get(jobFacets, "jobType", "integration"),
    "job.facets.jobType.integration",
    MAX_SHORT,
  );
  if (integration) return integration.toLowerCase();
  const engine = c.optionalString(
    get(runFacets, "processing_engine", "name"),
    "run.facets.processing_engine.name",
    MAX_SHORT,
  );
  return engine?.toLowerCase();
}

/** First owners[].name of an ownership facet. */
function readOwner(facets: Obj | undefined, path: string, c: Ctx): string | undefined {
  const owners = get(facets, "ownership", "owners");
  if (owners === undefined || owners === null) return undefined;
  if (!Array.isArray(owners)) {
    c.warn(`${path}.owners: expected an array, got ${describe(owners)}; ignored`);
    return undefined;
  }
  for (let i = 0; i < owners.length; i++) {
    const name = get(owners[i], "name");
    if (typeof name === "string" && name.trim() !== "") {
      return c.optionalString(name, `${path}.owners[${i}].name`, MAX_NAME);
    }
  }
  return undefined;
}

const ENV_VARIABLES = ["HOUSTON_ENVIRONMENT", "ENVIRONMENT", "ENV"];
const ENV_KEYS = ["environment", "env"];

function readEnvironment(runFacets: Obj | undefined, jobFacets: Obj | undefined, c: Ctx): string | undefined {
  const pick = (v: unknown, path: string) => c.optionalString(v, path, MAX_SHORT);
  // EnvironmentVariablesRunFacet: { environmentVariables: [{ name, value }] }
  const vars = get(runFacets, "environmentVariables", "environmentVariables");
  if (Array.isArray(vars)) {
    for (const wanted of ENV_VARIABLES) {
      const i = vars.findIndex(
        (e) => typeof get(e, "name") === "string" && (get(e, "name") as string).toUpperCase() === wanted,
      );
      if (i >= 0) {
        const v = pick(
          get(vars[i], "value"),
          `run.facets.environmentVariables.environmentVariables[${i}].value`,
        );
        if (v) return v;
      }
    }
  }
  // TagsRunFacet / TagsJobFacet: { tags: [{ key, value, source }] }
  for (const [facets, path] of [
    [runFacets, "run.facets.tags.tags"],
    [jobFacets, "job.facets.tags.tags"],
  ] as const) {
    const tags = get(facets, "tags", "tags");
    if (!Array.isArray(tags)) continue;
    const i = tags.findIndex((t) => {
      const k = get(t, "key");
      return typeof k === "string" && ENV_KEYS.includes(k.toLowerCase());
    });
    if (i >= 0) {
      const v = pick(get(tags[i], "value"), `${path}[${i}].value`);
      if (v) return v;
    }
  }
  // Spark's EnvironmentRunFacet: { "environment-properties": { ...map } }
  const props = get(runFacets, "environment-properties", "environment-properties");
  if (isObj(props)) {
    for (const key of Object.keys(props)) {
      if (ENV_KEYS.includes(key.toLowerCase())) {
        const v = pick(props[key], `run.facets.environment-properties.environment-properties.${key}`);
        if (v) return v;
      }
    }
  }
  return undefined;
}

interface Assertion {
  assertion: string;
  success: boolean;
  column?: string;
}

function findAssertions(ds: Obj, path: string, c: Ctx): Assertion[] {
  const out: Assertion[] = [];
  for (const facetKey of ["inputFacets", "outputFacets", "facets"]) {
    const list = get(ds, facetKey, "dataQualityAssertions", "assertions");
    if (list === undefined || list === null) continue;
    const where = `${path}.${facetKey}.dataQualityAssertions.assertions`;
    if (!Array.isArray(list)) {
      c.warn(`${where}: expected an array, got ${describe(list)}; ignored`);
      continue;
    }
    list.forEach((a, j) => {
      const name = get(a, "assertion");
      const success = get(a, "success");
      if (typeof name !== "string" || name.trim() === "" || typeof success !== "boolean") {
        c.warn(`${where}[${j}]: needs a non-empty assertion and a boolean success; ignored`);
        return;
      }
      const col = get(a, "column");
      const column = typeof col === "string" && col.trim() !== "" ? col : undefined;
      // The column is part of the test's name: without it two tests would become one.
      const problem = unstorable(name) ?? (column === undefined ? undefined : unstorable(column));
      if (problem) {
        c.warn(`${where}[${j}]: the assertion or its column ${problem}; ignored`);
        return;
      }
      const entry: Assertion = { assertion: clipText(name, MAX_NAME), success };
      if (column !== undefined) entry.column = clipText(column, MAX_NAME);
      out.push(entry);
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// DatasetEvent and JobEvent

function mapDatasetEvent(raw: Obj, c: Ctx): HoustonEvent[] | undefined {
  const time = c.eventTime(raw);
  const ds = readDatasetRef(raw["dataset"], "dataset", c);
  if (c.errors.length || !time || !ds) return undefined;
  const ev: DatasetEvent = {
    type: "dataset",
    id: makeId(`ol:dataset:${ds.namespace}:${ds.name}:${time.text}`),
    namespace: ds.namespace,
    dataset: ds.name,
    updatedAt: time.date,
  };
  fillDatasetFacets(ev, ds.obj, "dataset", c);
  return [ev];
}

function mapJobEvent(raw: Obj, c: Ctx): HoustonEvent[] | undefined {
  const time = c.eventTime(raw);
  const jobRef = readJobRef(raw, c);
  const inputs = readDatasetList(raw, "inputs", c);
  const outputs = readDatasetList(raw, "outputs", c);
  if (c.errors.length || !time || !jobRef || !inputs || !outputs) return undefined;
  const jobFacets = facetsOf(jobRef.obj);
  const ev: JobEvent = {
    type: "job",
    id: makeId(`ol:job:${jobRef.namespace}:${jobRef.name}:${time.text}`),
    namespace: jobRef.namespace,
    job: jobRef.name,
    at: time.date,
  };
  if (inputs.length) ev.inputs = inputs.map(nameOf);
  if (outputs.length) ev.outputs = outputs.map(nameOf);
  const tool = readTool(jobFacets, undefined, c);
  if (tool) ev.tool = tool;
  const owner = readOwner(jobFacets, "job.facets.ownership", c);
  if (owner) ev.owner = owner;
  // A JobEvent has no run facets; a parent facet, if an emitter sends one, sits on the job.
  const group = c.optionalString(
    get(jobFacets, "parent", "job", "name"),
    "job.facets.parent.job.name",
    MAX_NAME,
  );
  if (group) ev.group = group;
  return [ev];
}

/** schema, rows, bytes and owner from a dataset's facets. */
function fillDatasetFacets(ev: DatasetEvent, ds: Obj, path: string, c: Ctx): void {
  const facets = facetsOf(ds);
  const stats = get(ds, "outputFacets", "outputStatistics") ?? get(facets, "outputStatistics");
  if (stats !== undefined && stats !== null) {
    const statsPath = get(ds, "outputFacets", "outputStatistics")
      ? `${path}.outputFacets.outputStatistics`
      : `${path}.facets.outputStatistics`;
    const rows = count(get(stats, "rowCount"), `${statsPath}.rowCount`, c, LIMITS.rows);
    if (rows !== undefined) ev.rows = rows;
    const bytes = count(get(stats, "size"), `${statsPath}.size`, c, LIMITS.bytes);
    if (bytes !== undefined) ev.bytes = bytes;
  }
  const fields = get(facets, "schema", "fields");
  if (fields !== undefined && fields !== null) {
    if (Array.isArray(fields)) {
      const schema: SchemaField[] = [];
      const skipped = flattenSchema(fields, "", 0, schema);
      ev.schema = schema;
      if (skipped)
        c.warn(
          `${path}.facets.schema.fields: ${skipped} field(s) without a name, beyond limits or not storable as text skipped`,
        );
    } else {
      c.warn(`${path}.facets.schema.fields: expected an array, got ${describe(fields)}; ignored`);
    }
  }
  const owner = readOwner(facets, `${path}.facets.ownership`, c);
  if (owner) ev.owner = owner;
}

/**
 * Appends fields (nested ones as "parent.child"); returns how many were skipped: fields
 * without a name, beyond the limits, or with a name or type the store cannot hold (a
 * skipped field's children are skipped with it).
 */
function flattenSchema(fields: unknown[], prefix: string, depth: number, out: SchemaField[]): number {
  let skipped = 0;
  for (const f of fields) {
    const name = get(f, "name");
    if (typeof name !== "string" || name === "" || out.length >= SIZES.schemaFields) {
      skipped++;
      continue;
    }
    const rawType = get(f, "type");
    const type = typeof rawType === "string" && rawType !== "" ? rawType : "unknown";
    const full = prefix + name;
    if (
      full.length > SIZES.schemaFieldName ||
      type.length > SIZES.schemaFieldType ||
      unstorable(full) !== undefined ||
      unstorable(type) !== undefined
    ) {
      skipped++;
      continue;
    }
    out.push({ name: full, type });
    const children = get(f, "fields");
    if (Array.isArray(children) && children.length) {
      if (depth + 1 >= MAX_SCHEMA_DEPTH) skipped += children.length;
      else skipped += flattenSchema(children, `${full}.`, depth + 1, out);
    }
  }
  return skipped;
}

function count(v: unknown, path: string, c: Ctx, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > max) {
    c.warn(
      `${path}: expected a whole number from 0 to ${max}, got ${typeof v === "number" ? v : describe(v)}; ignored`,
    );
    return undefined;
  }
  return v;
}

// ---------------------------------------------------------------------------------------
// Helpers

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function present(o: Obj, key: string): boolean {
  return Object.hasOwn(o, key) && o[key] !== undefined && o[key] !== null;
}

/** Own-property path lookup; undefined as soon as a step is not an object. */
function get(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const k of path) {
    if (!isObj(cur) || !Object.hasOwn(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function facetsOf(o: Obj): Obj | undefined {
  const f = get(o, "facets");
  return isObj(f) ? f : undefined;
}

function makeId(id: string): string {
  if (id.length <= MAX_ID) return id;
  return `ol:sha1:${createHash("sha1").update(id).digest("hex")}`;
}
