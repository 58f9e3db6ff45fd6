// The normalized events every ingest path produces: the native events API, the
// OpenLineage endpoint, `houston run`, `houston ingest` and `houston demo` all reduce
// their input to these before anything is written (src/ingest/apply.ts).
import type { DeployKind, DeployStatus, RunStatus, TestStatus } from "../db/schema.ts";

export const DEFAULT_NAMESPACE = "default";

/** A dataset as a producer names it (its lineage name: src/ingest/dataset-names.ts). */
export interface DatasetName {
  namespace: string;
  name: string;
}

export interface RunEvent {
  type: "run";
  /** Optional idempotency key: an event whose id was already applied is a no-op. */
  id?: string;
  namespace: string;
  job: string;
  /** External run id; start and end events of one run share it. Generated when absent. */
  runId: string;
  status: RunStatus;
  startedAt?: Date;
  endedAt?: Date;
  scheduledFor?: Date;
  group?: string;
  environment?: string;
  tool?: string;
  owner?: string;
  rows?: number;
  /** Records the run rejected (the producer's own count). */
  badRecords?: number;
  cpuSeconds?: number;
  memoryMb?: number;
  cost?: number;
  exitCode?: number;
  error?: string;
  parentRunId?: string;
  /** Datasets the run read and wrote: lineage edges of its job, seen at eventTime. */
  inputs?: DatasetName[];
  outputs?: DatasetName[];
  /** When this status was observed; the newer of two terminal statuses wins. */
  eventTime: Date;
}

export interface SchemaField {
  name: string;
  type: string;
}

export interface DatasetEvent {
  type: "dataset";
  id?: string;
  namespace: string;
  dataset: string;
  updatedAt: Date;
  rows?: number;
  bytes?: number;
  /** Records the update rejected (the producer's own count). */
  badRecords?: number;
  supplier?: string;
  owner?: string;
  schema?: SchemaField[];
  /** External id of the producing run, if known. */
  runId?: string;
  /** The producing job, when the event came with one (OpenLineage outputs). */
  producer?: { namespace: string; job: string };
}

export interface TestEvent {
  type: "test";
  id?: string;
  test: string;
  dataset?: string;
  datasetNamespace?: string;
  job?: string;
  jobNamespace?: string;
  status: TestStatus;
  environment?: string;
  value?: string;
  at: Date;
  runId?: string;
}

export interface DeployEvent {
  type: "deploy";
  id?: string;
  artifact: string;
  kind: DeployKind;
  version?: string;
  environment?: string;
  status: DeployStatus;
  at: Date;
  project?: string;
  tickets: string[];
}

/** Job metadata without a run (an OpenLineage JobEvent): registers or updates the job. */
export interface JobEvent {
  type: "job";
  id?: string;
  namespace: string;
  job: string;
  group?: string;
  tool?: string;
  owner?: string;
  /** The datasets the job declares it reads and writes: lineage edges, seen at `at`. */
  inputs?: DatasetName[];
  outputs?: DatasetName[];
  /** The event's time (when the declaration was seen). */
  at?: Date;
}

export type HoustonEvent = RunEvent | DatasetEvent | TestEvent | DeployEvent | JobEvent;

/** One reason an input event was refused: which event, which field, why. */
export interface FieldError {
  index: number;
  /** 1-based line for NDJSON input. */
  line?: number;
  field: string;
  reason: string;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
}
