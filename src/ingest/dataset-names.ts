// How a dataset is named in the lineage graph, so that producers that name one table
// differently meet at one node. The store keeps datasets rows as each producer names them
// (an OpenLineage output is the datasets row (namespace, name) it was sent as, a native
// event's the row (namespace or "default", dataset)); lineage edges key on the dataset's
// *lineage name* instead, computed by the one rule below (the README states it too):
//
//   1. A table in a database: a namespace that is a database connection (`postgres://host:5432`,
//      `snowflake://account`, `redshift://…`, `bigquery`, …; the schemes are listed in
//      DATABASE_SCHEMES) → the last two dot-separated parts of the name, lower-cased:
//      `postgres://db:5432` + `shop.analytics.fct_orders` → `analytics.fct_orders`.
//      Host, port and database are dropped: a warehouse's tables are known by schema.table,
//      which is how people and native events name them (unquoted SQL names ignore case).
//   2. The default namespace (a plain native name) → the name, lower-cased:
//      `analytics.fct_orders` → `analytics.fct_orders`. So rules 1 and 2 meet.
//   3. Anything else → `namespace/name` as sent: `s3://landing/acme/settlements.csv`,
//      `kafka://broker:9092/orders`, `warehouse/analytics.fct_orders`.
//
// What the rule cannot join (two namespaces naming one thing), houston.yml's `aliases:`
// join at query time (src/db/queries/lineage.ts). Native `inputs`/`outputs` entries are
// written `namespace/name` or a plain name; parseDatasetRef reads them.
import { DEFAULT_NAMESPACE, type DatasetName } from "./events.ts";

/**
 * URI schemes (and bare namespaces) of OpenLineage's naming conventions whose datasets are
 * tables named `[database.]schema.table`. Object stores, files and streams are not here:
 * their names are paths or topics, kept whole by rule 3.
 */
export const DATABASE_SCHEMES: readonly string[] = [
  "awsathena",
  "bigquery",
  "clickhouse",
  "databricks",
  "db2",
  "duckdb",
  "hive",
  "mariadb",
  "mssql",
  "mysql",
  "oracle",
  "postgres",
  "postgresql",
  "presto",
  "redshift",
  "snowflake",
  "spanner",
  "sqlserver",
  "teradata",
  "trino",
  "vertica",
];

const URI = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/[^/]*/;

/** Whether datasets of `namespace` are database tables (rule 1). */
export function isDatabaseNamespace(namespace: string): boolean {
  const m = URI.exec(namespace);
  const scheme = (m ? m[1]! : namespace).toLowerCase();
  return DATABASE_SCHEMES.includes(scheme) && (m !== null || scheme === "bigquery");
}

/** The dataset's name in the lineage graph (see the rule at the top of this file). */
export function lineageName(ref: DatasetName): string {
  if (isDatabaseNamespace(ref.namespace)) return ref.name.split(".").slice(-2).join(".").toLowerCase();
  if (ref.namespace === DEFAULT_NAMESPACE) return ref.name.toLowerCase();
  return `${ref.namespace}/${ref.name}`;
}

/**
 * A native dataset reference: `namespace/name`, or a plain name in the default namespace.
 * A namespace that is a URI keeps its `scheme://authority` (`s3://bucket/path/file.csv` is
 * namespace `s3://bucket`, name `path/file.csv`, as OpenLineage names it); otherwise the
 * namespace ends at the first `/` (`file//tmp/out` is namespace `file`, name `/tmp/out`).
 * A reference that starts with `/` or has nothing after its namespace is a plain name.
 */
export function parseDatasetRef(text: string): DatasetName {
  const uri = URI.exec(text);
  if (uri) {
    const rest = text.slice(uri[0].length);
    return rest.length > 1 ? { namespace: uri[0], name: rest.slice(1) } : plain(text);
  }
  const slash = text.indexOf("/");
  if (slash > 0 && slash < text.length - 1)
    return { namespace: text.slice(0, slash), name: text.slice(slash + 1) };
  return plain(text);
}

const plain = (name: string): DatasetName => ({ namespace: DEFAULT_NAMESPACE, name });

/** The native form of a reference, which parseDatasetRef reads back to the same lineage name. */
export function formatDatasetRef(ref: DatasetName): string {
  if (ref.namespace !== DEFAULT_NAMESPACE) return `${ref.namespace}/${ref.name}`;
  // A default-namespace name that would read as `namespace/name` keeps its namespace.
  return parseDatasetRef(ref.name).namespace === DEFAULT_NAMESPACE
    ? ref.name
    : `${DEFAULT_NAMESPACE}/${ref.name}`;
}
