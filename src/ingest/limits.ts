// The ranges ingest accepts for a run's and a dataset's figures. They are far beyond any
// real job and small enough that the store can sum a day (or a year) of them: two runs with
// `"cost": 1.5e308` once overflowed the daily rollup and stopped it for every job. The
// README lists them; native events outside them get a 400 naming the field, OpenLineage
// facets outside them are dropped with a warning.
export const LIMITS = {
  /** Rows a run wrote or a dataset holds. */
  rows: 1e15,
  /** Records a run or a dataset update rejected: as many as it could have had rows. */
  badRecords: 1e15,
  /** Bytes a dataset holds (9 PB: the largest whole number JSON carries exactly). */
  bytes: Number.MAX_SAFE_INTEGER,
  /** CPU seconds one run used (about 31 CPU-years). */
  cpuSeconds: 1e9,
  /** Peak memory of one run, in MB (100 TB). */
  memoryMb: 1e8,
  /** Cost of one run, in whatever currency the team reports. */
  cost: 1e9,
  /** Exit codes are 32-bit signed integers everywhere they come from. */
  exitCodeMin: -2_147_483_648,
  exitCodeMax: 2_147_483_647,
} as const;

// The sizes of the lists and free-form strings events carry: far beyond real schemas, test
// results and deploys, and small enough that one event cannot hold megabytes (a deploy with
// 200,000 tickets and a 1 MB schema field name were once accepted). The README lists them.
export const SIZES = {
  /** Fields in one dataset schema (nested OpenLineage fields count one each). */
  schemaFields: 5_000,
  /** Characters in a schema field's name (a nested one's full dotted name) and in its type. */
  schemaFieldName: 1_000,
  schemaFieldType: 1_000,
  /** Characters in a test's value. */
  testValue: 1_000,
  /** Tickets on one deploy, and characters in each. */
  tickets: 100,
  ticket: 255,
  /**
   * Datasets in a run's (or an OpenLineage job's) `inputs` or `outputs`: each is a lineage
   * edge written with the event, and no real job reads or writes more tables than this in
   * one run (dbt's largest models read tens).
   */
  lineageDatasets: 1_000,
  /** Characters in a dataset's namespace and in its name (the `namespace` and `dataset` fields too). */
  namespace: 255,
  datasetName: 500,
} as const;
