// Who owns what: the owner and Slack channel declared for jobs (houston.yml or the job's
// metadata) and datasets; a dataset without its own owner is answered with the owner of
// the job that last wrote it, said as such.
import { sql } from "drizzle-orm";
import type { Store } from "../client.ts";

export interface JobOwner {
  job: string;
  namespace: string;
  group: string | null;
  environment: string | null;
  owner: string | null;
  channel: string | null;
}

export interface DatasetOwner {
  dataset: string;
  namespace: string;
  owner: string | null;
  supplier: string | null;
  /** The job that wrote its latest update linked to a run, and that job's owner. */
  producer: { job: string; owner: string | null } | null;
}

interface JobRow {
  job: string;
  namespace: string;
  group: string | null;
  environment: string | null;
  owner: string | null;
  channel: string | null;
}

/** The jobs called `name` (one per namespace), or every job of group `group`, by name. */
export async function jobOwners(store: Store, scope: { job?: string; group?: string }): Promise<JobOwner[]> {
  const where =
    scope.job !== undefined ? sql`j.name = ${scope.job}` : sql`j.group_name = ${scope.group ?? null}`;
  return store.query<JobRow>(sql`
    SELECT j.name AS job, j.namespace, j.group_name AS "group", j.environment, j.owner,
      j.slack_channel AS channel
    FROM jobs j WHERE ${where}
    ORDER BY j.name, j.namespace`);
}

interface DatasetRow {
  dataset: string;
  namespace: string;
  owner: string | null;
  supplier: string | null;
  producer: string | null;
  producer_owner: string | null;
}

/** The datasets called `name` (one per namespace) with their declared owner and latest producer. */
export async function datasetOwners(store: Store, name: string): Promise<DatasetOwner[]> {
  // The latest update that names its producing run: one backward scan of the dataset's
  // updates (dataset_updates_dataset_time_idx), stopping at the first linked one.
  const rows = await store.query<DatasetRow>(sql`
    SELECT d.name AS dataset, d.namespace, d.owner, d.supplier, p.job AS producer,
      p.owner AS producer_owner
    FROM datasets d
    LEFT JOIN LATERAL (
      SELECT j.name AS job, j.owner
      FROM dataset_updates u JOIN runs r ON r.id = u.run_id JOIN jobs j ON j.id = r.job_id
      WHERE u.dataset_id = d.id AND u.run_id IS NOT NULL
      ORDER BY u.updated_at DESC LIMIT 1
    ) p ON true
    WHERE d.name = ${name}
    ORDER BY d.namespace`);
  return rows.map((r) => ({
    dataset: r.dataset,
    namespace: r.namespace,
    owner: r.owner,
    supplier: r.supplier,
    producer: r.producer === null ? null : { job: r.producer, owner: r.producer_owner },
  }));
}
