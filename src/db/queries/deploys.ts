// Deploys: the rows the deploys and projects questions read, always through one of the
// deploys table's indexes — (artifact, at) for one artifact, (project, at) for one project,
// (at) for a period, and the partial index on non-successes for failures.
import { type SQL, sql } from "drizzle-orm";
import type { Store } from "../client.ts";
import type { DeployKind } from "../schema.ts";
import { json, ts } from "../sql.ts";
import { envIn } from "../../questions/scope.ts";

export interface DeployRow {
  id: number;
  artifact: string;
  kind: string;
  version: string | null;
  environment: string | null;
  status: string;
  /** timestamptz as PostgreSQL prints it; new Date() reads it. */
  at: string;
  project: string | null;
  tickets: string[];
}

export const DEPLOY_COLUMNS = sql`d.id::float8 AS id, d.artifact, d.kind, d.version, d.environment, d.status,
  d.at::text AS at, d.project, to_json(d.tickets) AS tickets`;

/** Which deploys: each field narrows them; none set is every deploy. */
export interface DeployFilter {
  artifact?: string;
  project?: string;
  /** Any spelling of the environment (prod, production…). */
  environment?: string;
  /** v1.8.0 and 1.8.0 alike. */
  version?: string;
  from?: Date;
  to?: Date;
  kinds?: DeployKind[];
  status?: "success";
}

function where(f: DeployFilter): SQL {
  const parts: SQL[] = [];
  if (f.artifact !== undefined) parts.push(sql`d.artifact = ${f.artifact}`);
  if (f.project !== undefined) parts.push(sql`d.project = ${f.project}`);
  if (f.from) parts.push(sql`d.at >= ${ts(f.from)}`);
  if (f.to) parts.push(sql`d.at < ${ts(f.to)}`);
  if (f.environment !== undefined) parts.push(envIn(sql`d.environment`, f.environment));
  if (f.kinds?.length) parts.push(sql`d.kind IN (SELECT jsonb_array_elements_text(${json(f.kinds)}))`);
  if (f.version !== undefined) {
    const v = f.version.replace(/^v/i, "").toLowerCase();
    parts.push(sql`lower(d.version) IN (${v}, ${`v${v}`})`);
  }
  if (f.status) parts.push(sql`d.status = ${f.status}`);
  return parts.length ? sql.join(parts, sql` AND `) : sql`true`;
}

/** The deploys of `f`, newest first, at most `limit`. */
export function deploysNewestFirst(store: Store, f: DeployFilter, limit: number): Promise<DeployRow[]> {
  return store.query<DeployRow>(
    sql`SELECT ${DEPLOY_COLUMNS} FROM deploys d WHERE ${where(f)} ORDER BY d.at DESC, d.id DESC LIMIT ${limit}`,
  );
}

/** The latest deploy of `f` to each environment (one row per environment, no environment included). */
export function latestPerEnvironment(store: Store, f: DeployFilter): Promise<DeployRow[]> {
  return store.query<DeployRow>(
    sql`SELECT DISTINCT ON (coalesce(d.environment, '')) ${DEPLOY_COLUMNS}
        FROM deploys d WHERE ${where(f)}
        ORDER BY coalesce(d.environment, ''), d.at DESC, d.id DESC`,
  );
}

/** The latest deploy of `f` of each artifact to each environment, by artifact. */
export function latestPerArtifactAndEnvironment(store: Store, f: DeployFilter): Promise<DeployRow[]> {
  return store.query<DeployRow>(
    sql`SELECT DISTINCT ON (d.artifact, coalesce(d.environment, '')) ${DEPLOY_COLUMNS}
        FROM deploys d WHERE ${where(f)}
        ORDER BY d.artifact, coalesce(d.environment, ''), d.at DESC, d.id DESC`,
  );
}

export interface DeployCount {
  kind: string;
  status: string;
  environment: string | null;
  n: number;
}

/** How many deploys of `f` per kind, status and environment (as stored). */
export function deployCounts(store: Store, f: DeployFilter): Promise<DeployCount[]> {
  return store.query<DeployCount>(
    sql`SELECT d.kind, d.status, d.environment, count(*)::int AS n
        FROM deploys d WHERE ${where(f)} GROUP BY 1, 2, 3`,
  );
}

export interface FailedDeploy extends DeployRow {
  /** The first later success of the same artifact in the same environment: what fixed it. */
  fixVersion: string | null;
  fixAt: string | null;
}

/**
 * The deploys of `f` that did not succeed (only the rolled-back ones with `rolledBackOnly`),
 * newest first, at most `limit`, each with what fixed it. The predicate is the partial
 * index deploys_failed_idx's.
 */
export async function unsuccessfulDeploys(
  store: Store,
  f: DeployFilter,
  opts: { rolledBackOnly: boolean; limit: number },
): Promise<FailedDeploy[]> {
  const rows = await store.query<DeployRow & { fix_version: string | null; fix_at: string | null }>(
    sql`SELECT ${DEPLOY_COLUMNS}, fix.version AS fix_version, fix.at::text AS fix_at
        FROM deploys d
        LEFT JOIN LATERAL (
          SELECT x.version, x.at FROM deploys x
          WHERE x.artifact = d.artifact AND x.environment IS NOT DISTINCT FROM d.environment
            AND x.status = 'success' AND x.at > d.at
          ORDER BY x.at LIMIT 1) fix ON true
        WHERE d.status <> 'success' AND ${where(f)}
          ${opts.rolledBackOnly ? sql`AND d.status = 'rolled_back'` : sql``}
        ORDER BY d.at DESC, d.id DESC LIMIT ${opts.limit}`,
  );
  return rows.map(({ fix_version, fix_at, ...d }) => ({ ...d, fixVersion: fix_version, fixAt: fix_at }));
}
