// The native events API format: one JSON object, a JSON array, or NDJSON; each event has
// a `type` of run | dataset | test | deploy. Every problem is reported with the event's
// index (and line, for NDJSON), the field and the reason; nothing is written if any fails.
import { randomUUID } from "node:crypto";
import { DEPLOY_KINDS, DEPLOY_STATUSES, RUN_STATUSES, TEST_STATUSES } from "../db/schema.ts";
import { parseDatasetRef } from "./dataset-names.ts";
import {
  type DatasetName,
  DEFAULT_NAMESPACE,
  type FieldError,
  type HoustonEvent,
  type RunEvent,
  type SchemaField,
} from "./events.ts";
import { LIMITS, SIZES } from "./limits.ts";
import { unstorable } from "./text.ts";
import { describe, parseTimestamp } from "./time.ts";

export interface BodyItem {
  value: unknown;
  /** 1-based line number when the body was NDJSON. */
  line?: number;
}

export type ParsedBody = { ok: true; items: BodyItem[] } | { ok: false; errors: FieldError[] };

/** Splits a request body into events: a JSON object, a JSON array, or NDJSON lines. */
export function parseBody(text: string): ParsedBody {
  const trimmed = text.trim();
  if (trimmed === "")
    return { ok: false, errors: [{ index: 0, field: "body", reason: "the body is empty" }] };
  try {
    const value = JSON.parse(trimmed) as unknown;
    if (Array.isArray(value)) return { ok: true, items: value.map((v) => ({ value: v })) };
    return { ok: true, items: [{ value }] };
  } catch (err) {
    // Not one JSON document: try NDJSON (one event per line).
    if (!trimmed.includes("\n")) {
      return {
        ok: false,
        errors: [{ index: 0, field: "body", reason: `malformed JSON: ${(err as Error).message}` }],
      };
    }
  }
  const items: BodyItem[] = [];
  const errors: FieldError[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === "") continue;
    try {
      items.push({ value: JSON.parse(line) as unknown, line: i + 1 });
    } catch (err) {
      errors.push({
        index: items.length + errors.length,
        line: i + 1,
        field: "body",
        reason: `malformed JSON: ${(err as Error).message}`,
      });
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, items };
}

export type ValidateResult = { ok: true; event: HoustonEvent } | { ok: false; errors: FieldError[] };

const MAX_TEXT = 1000;
const MAX_ERROR_TEXT = 10_000;

/** Reads fields of one event, collecting every problem rather than stopping at the first. */
class Reader {
  readonly errors: FieldError[] = [];
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly index: number,
    private readonly line: number | undefined,
  ) {}

  fail(field: string, reason: string): void {
    const e: FieldError = { index: this.index, field, reason };
    if (this.line !== undefined) e.line = this.line;
    this.errors.push(e);
  }

  private present(field: string): boolean {
    const v = this.obj[field];
    return v !== undefined && v !== null;
  }

  str(field: string, required: true, max?: number): string;
  str(field: string, required?: false, max?: number): string | undefined;
  str(field: string, required = false, max = MAX_TEXT): string | undefined {
    if (!this.present(field)) {
      if (required) this.fail(field, "is required");
      return undefined;
    }
    const v = this.obj[field];
    if (typeof v !== "string") {
      // Numbers are a common way to send ids and versions: accept them as text.
      if (typeof v === "number" && Number.isFinite(v)) return String(v);
      this.fail(field, `expected a string, got ${describe(v)}`);
      return undefined;
    }
    if (!this.storable(field, v)) return undefined;
    if (required && v.trim() === "") {
      this.fail(field, "must not be empty");
      return undefined;
    }
    if (v.length > max) {
      this.fail(field, `is ${v.length} characters long; at most ${max} are accepted`);
      return undefined;
    }
    return v;
  }

  /** False (and the field refused) when PostgreSQL text cannot hold `v`. */
  storable(field: string, v: string): boolean {
    const problem = unstorable(v);
    if (problem) this.fail(field, problem);
    return problem === undefined;
  }

  /** A string of at most `max` characters that the store can hold; else the field is refused. */
  text(field: string, v: string, max: number): boolean {
    if (v.length > max) {
      this.fail(field, `is ${v.length} characters long; at most ${max} are accepted`);
      return false;
    }
    return this.storable(field, v);
  }

  time(field: string, required: true): Date;
  time(field: string, required?: false): Date | undefined;
  time(field: string, required = false): Date | undefined {
    if (!this.present(field)) {
      if (required) this.fail(field, "is required (an ISO 8601 timestamp, e.g. 2026-11-03T02:00:00Z)");
      return undefined;
    }
    const t = parseTimestamp(this.obj[field]);
    if (typeof t === "string") {
      this.fail(field, t);
      return undefined;
    }
    return t;
  }

  num(field: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number | undefined {
    if (!this.present(field)) return undefined;
    const v = this.obj[field];
    if (typeof v !== "number") {
      this.fail(field, `expected a number, got ${describe(v)}`);
      return undefined;
    }
    if (!Number.isFinite(v)) {
      // JSON.parse turns 1e400 into Infinity.
      this.fail(field, `is too large (at most ${opts.max ?? Number.MAX_VALUE})`);
      return undefined;
    }
    if (opts.min !== undefined && v < opts.min) {
      this.fail(field, `must be at least ${opts.min}, got ${v}`);
      return undefined;
    }
    if (opts.max !== undefined && v > opts.max) {
      this.fail(field, `must be at most ${opts.max}, got ${v}`);
      return undefined;
    }
    if (opts.integer && !Number.isSafeInteger(v)) {
      this.fail(field, `expected a whole number, got ${v}`);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[], required: true): T;
  oneOf<T extends string>(field: string, allowed: readonly T[], required: false): T | undefined;
  oneOf<T extends string>(field: string, allowed: readonly T[], required: boolean): T | undefined {
    const v = this.str(field, required as true);
    if (v === undefined) return undefined;
    const lower = v.toLowerCase() as T;
    if (!allowed.includes(lower)) {
      this.fail(field, `"${v}" is not one of ${allowed.join(", ")}`);
      return undefined;
    }
    return lower;
  }

  /**
   * A list of dataset references (`namespace/name` or a plain name): at most
   * SIZES.lineageDatasets, each a non-empty string whose namespace and name fit the sizes
   * the `namespace` and `dataset` fields allow.
   */
  datasets(field: string): DatasetName[] | undefined {
    if (!this.present(field)) return undefined;
    const v = this.obj[field];
    if (!Array.isArray(v)) {
      this.fail(field, `expected a list of dataset names ("namespace/name" or a name), got ${describe(v)}`);
      return undefined;
    }
    if (v.length > SIZES.lineageDatasets) {
      this.fail(field, `has ${v.length} datasets; at most ${SIZES.lineageDatasets} are accepted`);
      return undefined;
    }
    const out: DatasetName[] = [];
    v.forEach((entry: unknown, i) => {
      const f = `${field}[${i}]`;
      if (typeof entry !== "string") {
        this.fail(f, `expected a dataset name (a string), got ${describe(entry)}`);
        return;
      }
      if (entry.trim() === "") {
        this.fail(f, "must not be empty");
        return;
      }
      if (!this.storable(f, entry)) return;
      const ref = parseDatasetRef(entry);
      if (ref.namespace.length > SIZES.namespace) {
        this.fail(
          f,
          `its namespace is ${ref.namespace.length} characters long; at most ${SIZES.namespace} are accepted`,
        );
      } else if (ref.name.length > SIZES.datasetName) {
        this.fail(
          f,
          `its name is ${ref.name.length} characters long; at most ${SIZES.datasetName} are accepted`,
        );
      } else out.push(ref);
    });
    return out;
  }

  get(field: string): unknown {
    return this.obj[field];
  }
}

const RUN_FIELDS = new Set([
  "type",
  "id",
  "job",
  "namespace",
  "run_id",
  "status",
  "started_at",
  "ended_at",
  "scheduled_for",
  "group",
  "environment",
  "rows",
  "bad_records",
  "cpu_seconds",
  "memory_mb",
  "cost",
  "error",
  "tool",
  "owner",
  "exit_code",
  "parent_run_id",
  "inputs",
  "outputs",
]);
const DATASET_FIELDS = new Set([
  "type",
  "id",
  "dataset",
  "namespace",
  "updated_at",
  "rows",
  "bytes",
  "bad_records",
  "supplier",
  "owner",
  "schema",
  "run_id",
]);
const TEST_FIELDS = new Set([
  "type",
  "id",
  "test",
  "dataset",
  "job",
  "status",
  "environment",
  "value",
  "at",
  "run_id",
]);
const DEPLOY_FIELDS = new Set([
  "type",
  "id",
  "artifact",
  "kind",
  "version",
  "environment",
  "status",
  "at",
  "project",
  "tickets",
]);
const FIELDS: Record<string, Set<string>> = {
  run: RUN_FIELDS,
  dataset: DATASET_FIELDS,
  test: TEST_FIELDS,
  deploy: DEPLOY_FIELDS,
};

/** Validates one native event; `now` stamps run events that carry no time of their own. */
export function validateNativeEvent(raw: unknown, index: number, line?: number): ValidateResult {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    const e: FieldError = { index, field: "(event)", reason: `expected a JSON object, got ${describe(raw)}` };
    if (line !== undefined) e.line = line;
    return { ok: false, errors: [e] };
  }
  const r = new Reader(raw as Record<string, unknown>, index, line);
  const type = r.str("type", true);
  if (type === undefined) return { ok: false, errors: r.errors };
  const known = FIELDS[type];
  if (!known) {
    r.fail("type", `"${type}" is not one of run, dataset, test, deploy`);
    return { ok: false, errors: r.errors };
  }
  // A misspelt field would otherwise be silently dropped: say so.
  for (const k of Object.keys(raw)) {
    if (!known.has(k)) r.fail(k, `is not a field of a ${type} event (fields: ${[...known].join(", ")})`);
  }
  const id = r.str("id", false, 255);
  let event: HoustonEvent | undefined;
  switch (type) {
    case "run":
      event = readRun(r, id);
      break;
    case "dataset":
      event = readDataset(r, id);
      break;
    case "test":
      event = readTest(r, id);
      break;
    case "deploy":
      event = readDeploy(r, id);
      break;
  }
  if (r.errors.length || !event) return { ok: false, errors: r.errors };
  return { ok: true, event };
}

function readRun(r: Reader, id: string | undefined): RunEvent | undefined {
  const job = r.str("job", true, 500);
  const status = r.oneOf("status", RUN_STATUSES, true);
  const inputs = r.datasets("inputs");
  const outputs = r.datasets("outputs");
  const startedAt = r.time("started_at");
  const endedAt = r.time("ended_at");
  const scheduledFor = r.time("scheduled_for");
  const runId = r.str("run_id", false, 255);
  if (status === "running" && !startedAt) r.fail("started_at", "is required when status is running");
  if (status && status !== "running" && status !== "skipped" && !startedAt && !endedAt) {
    r.fail("ended_at", `a ${status} run needs ended_at (or started_at)`);
  }
  if (status === "skipped" && !startedAt && !endedAt && !scheduledFor) {
    r.fail("scheduled_for", "a skipped run needs scheduled_for (or started_at/ended_at)");
  }
  if (startedAt && endedAt && endedAt < startedAt) r.fail("ended_at", "is before started_at");
  if (status === "running" && endedAt)
    r.fail("ended_at", "a running run has no ended_at; send the final status");
  if (!runId && status === "running") {
    r.fail("run_id", "is required for a running event, so its end can be matched to it");
  }
  const ev: Partial<RunEvent> = {
    type: "run",
    namespace: r.str("namespace", false, 255) ?? DEFAULT_NAMESPACE,
    job,
    runId: runId ?? id ?? randomUUID(),
    status,
    eventTime: endedAt ?? startedAt ?? scheduledFor,
  };
  if (id !== undefined) ev.id = id;
  assign(ev, "startedAt", startedAt);
  assign(ev, "endedAt", endedAt);
  assign(ev, "scheduledFor", scheduledFor);
  assign(ev, "group", r.str("group", false, 255));
  assign(ev, "environment", r.str("environment", false, 100));
  assign(ev, "tool", r.str("tool", false, 100));
  assign(ev, "owner", r.str("owner", false, 255));
  assign(ev, "rows", r.num("rows", { integer: true, min: 0, max: LIMITS.rows }));
  assign(ev, "badRecords", r.num("bad_records", { integer: true, min: 0, max: LIMITS.badRecords }));
  assign(ev, "cpuSeconds", r.num("cpu_seconds", { min: 0, max: LIMITS.cpuSeconds }));
  assign(ev, "memoryMb", r.num("memory_mb", { min: 0, max: LIMITS.memoryMb }));
  assign(ev, "cost", r.num("cost", { min: 0, max: LIMITS.cost }));
  assign(
    ev,
    "exitCode",
    r.num("exit_code", { integer: true, min: LIMITS.exitCodeMin, max: LIMITS.exitCodeMax }),
  );
  assign(ev, "error", r.str("error", false, MAX_ERROR_TEXT));
  assign(ev, "parentRunId", r.str("parent_run_id", false, 255));
  if (inputs?.length) ev.inputs = inputs;
  if (outputs?.length) ev.outputs = outputs;
  return r.errors.length ? undefined : (ev as RunEvent);
}

function readDataset(r: Reader, id: string | undefined): HoustonEvent | undefined {
  const dataset = r.str("dataset", true, SIZES.datasetName);
  const updatedAt = r.time("updated_at", true);
  const schema = readSchema(r);
  const ev: Record<string, unknown> = {
    type: "dataset",
    namespace: r.str("namespace", false, SIZES.namespace) ?? DEFAULT_NAMESPACE,
    dataset,
    updatedAt,
  };
  if (id !== undefined) ev["id"] = id;
  assign(ev, "rows", r.num("rows", { integer: true, min: 0, max: LIMITS.rows }));
  assign(ev, "bytes", r.num("bytes", { integer: true, min: 0, max: LIMITS.bytes }));
  assign(ev, "badRecords", r.num("bad_records", { integer: true, min: 0, max: LIMITS.badRecords }));
  assign(ev, "supplier", r.str("supplier", false, 255));
  assign(ev, "owner", r.str("owner", false, 255));
  assign(ev, "schema", schema);
  assign(ev, "runId", r.str("run_id", false, 255));
  return r.errors.length ? undefined : (ev as unknown as HoustonEvent);
}

function readSchema(r: Reader): SchemaField[] | undefined {
  const v = r.get("schema");
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) {
    r.fail("schema", `expected a list of {name, type}, got ${describe(v)}`);
    return undefined;
  }
  if (v.length > SIZES.schemaFields) {
    r.fail("schema", `has ${v.length} fields; at most ${SIZES.schemaFields} are accepted`);
    return undefined;
  }
  const out: SchemaField[] = [];
  v.forEach((f, i) => {
    const o = f as Record<string, unknown> | null;
    if (typeof o !== "object" || o === null || typeof o["name"] !== "string" || o["name"] === "") {
      r.fail(`schema[${i}].name`, "each schema field needs a non-empty name");
      return;
    }
    const name = o["name"];
    const t = o["type"];
    if (t !== undefined && typeof t !== "string") {
      r.fail(`schema[${i}].type`, `expected a string, got ${describe(t)}`);
      return;
    }
    const nameOk = r.text(`schema[${i}].name`, name, SIZES.schemaFieldName);
    const typeOk = t === undefined || r.text(`schema[${i}].type`, t, SIZES.schemaFieldType);
    if (nameOk && typeOk) out.push({ name, type: t ?? "unknown" });
  });
  return out;
}

function readTest(r: Reader, id: string | undefined): HoustonEvent | undefined {
  const test = r.str("test", true, 500);
  const status = r.oneOf("status", TEST_STATUSES, true);
  const at = r.time("at", true);
  const rawValue = r.get("value");
  let value: string | undefined;
  if (rawValue !== undefined && rawValue !== null) {
    if (typeof rawValue === "string" || typeof rawValue === "number" || typeof rawValue === "boolean") {
      const text = String(rawValue);
      if (r.text("value", text, SIZES.testValue)) value = text;
    } else r.fail("value", `expected a number, string or boolean, got ${describe(rawValue)}`);
  }
  const ev: Record<string, unknown> = { type: "test", test, status, at };
  if (id !== undefined) ev["id"] = id;
  assign(ev, "dataset", r.str("dataset", false, 500));
  assign(ev, "job", r.str("job", false, 500));
  assign(ev, "environment", r.str("environment", false, 100));
  assign(ev, "value", value);
  assign(ev, "runId", r.str("run_id", false, 255));
  return r.errors.length ? undefined : (ev as unknown as HoustonEvent);
}

function readDeploy(r: Reader, id: string | undefined): HoustonEvent | undefined {
  const artifact = r.str("artifact", true, 500);
  const kind = r.oneOf("kind", DEPLOY_KINDS, true);
  const status = r.oneOf("status", DEPLOY_STATUSES, true);
  const at = r.time("at", true);
  const rawTickets = r.get("tickets");
  let tickets: string[] = [];
  if (rawTickets !== undefined && rawTickets !== null) {
    if (typeof rawTickets === "string") tickets = rawTickets.split(/[,\s]+/).filter(Boolean);
    else if (Array.isArray(rawTickets) && rawTickets.every((t) => typeof t === "string"))
      tickets = rawTickets;
    else r.fail("tickets", `expected a list of ticket ids (strings), got ${describe(rawTickets)}`);
  }
  if (tickets.length > SIZES.tickets) {
    r.fail("tickets", `has ${tickets.length} tickets; at most ${SIZES.tickets} are accepted`);
  } else {
    tickets.forEach((t, i) => r.text(`tickets[${i}]`, t, SIZES.ticket));
  }
  const ev: Record<string, unknown> = { type: "deploy", artifact, kind, status, at, tickets };
  if (id !== undefined) ev["id"] = id;
  assign(ev, "version", r.str("version", false, 255));
  assign(ev, "environment", r.str("environment", false, 100));
  assign(ev, "project", r.str("project", false, 255));
  return r.errors.length ? undefined : (ev as unknown as HoustonEvent);
}

function assign<T extends object>(target: T, key: string, value: unknown): void {
  if (value !== undefined) (target as Record<string, unknown>)[key] = value;
}
