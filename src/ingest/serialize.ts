// The inverse of native.ts: a normalized event as the native events API's JSON, for
// clients that send through a remote Houston (`houston run`, `houston ingest` with HOUSTON_URL).
import { formatDatasetRef } from "./dataset-names.ts";
import type { HoustonEvent } from "./events.ts";

const iso = (d: Date | undefined) => (d ? d.toISOString() : undefined);

export function toNativeEvent(e: HoustonEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const put = (k: string, v: unknown) => {
    if (v !== undefined) out[k] = v;
  };
  put("type", e.type);
  put("id", e.id);
  switch (e.type) {
    case "run":
      put("namespace", e.namespace);
      put("job", e.job);
      put("run_id", e.runId);
      put("status", e.status);
      put("started_at", iso(e.startedAt));
      put("ended_at", iso(e.endedAt));
      put("scheduled_for", iso(e.scheduledFor));
      put("group", e.group);
      put("environment", e.environment);
      put("tool", e.tool);
      put("owner", e.owner);
      put("rows", e.rows);
      put("bad_records", e.badRecords);
      put("cpu_seconds", e.cpuSeconds);
      put("memory_mb", e.memoryMb);
      put("cost", e.cost);
      put("exit_code", e.exitCode);
      put("error", e.error);
      put("parent_run_id", e.parentRunId);
      put("inputs", e.inputs?.map(formatDatasetRef));
      put("outputs", e.outputs?.map(formatDatasetRef));
      break;
    case "dataset":
      put("namespace", e.namespace);
      put("dataset", e.dataset);
      put("updated_at", iso(e.updatedAt));
      put("rows", e.rows);
      put("bytes", e.bytes);
      put("bad_records", e.badRecords);
      put("supplier", e.supplier);
      put("owner", e.owner);
      put("schema", e.schema);
      put("run_id", e.runId);
      break;
    case "test":
      put("test", e.test);
      put("dataset", e.dataset);
      put("job", e.job);
      put("status", e.status);
      put("environment", e.environment);
      put("value", e.value);
      put("at", iso(e.at));
      put("run_id", e.runId);
      break;
    case "deploy":
      put("artifact", e.artifact);
      put("kind", e.kind);
      put("version", e.version);
      put("environment", e.environment);
      put("status", e.status);
      put("at", iso(e.at));
      put("project", e.project);
      put("tickets", e.tickets);
      break;
    case "job":
      throw new Error("job metadata events have no native form; send them through /api/v1/lineage");
  }
  return out;
}
