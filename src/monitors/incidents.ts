// Breaches → incidents → notifications. One incident per breach key; every state change and
// the outbox rows announcing it commit in one transaction (src/outbox/enqueue.ts), so a
// crash never loses a page and a retry never sends one twice.
//
// The state machine: triggered → acknowledged → resolved (who and when recorded at each
// step); an incident Houston resolved itself goes back to triggered if its exact key
// breaches again (a Slack "update" of the same message); one a person resolved stays
// resolved for that key.
//
// Notifications:
// - Slack: a new incident is posted ({ action: "post", incidentIds }). When one evaluation
//   opens more than 2 incidents of one group in one channel, they go out as ONE post with
//   all ids. Everything later (re-trigger, kind change, acknowledge, resolve) is an "update"
//   of that message; ordering key "incident:<id of the first incident in the post>", so a
//   post and its updates are delivered in order. Incidents without a channel are not posted.
// - PagerDuty: incidents with a routing key whose severity is critical or error are paged
//   (trigger), and acknowledged/resolved with the same dedup key (ordering key = incident
//   key). During quiet hours only critical incidents page; the others page at the first
//   evaluation after quiet hours if they are still open and unacknowledged.
// - Silences (table silences) and maintenance windows (houston.yml) cover a breach: its
//   incident is recorded with silenced = true and nothing is posted or paged. When the cover
//   ends and the breach persists, it is announced then. Silencing an open incident stops its
//   reminders.
// Whether an incident was posted (and in which post) and paged is kept in details.notify.
import { sql } from "drizzle-orm";
import type { Executor, Store } from "../db/client.ts";
import type { IncidentState, Severity } from "../db/schema.ts";
import { json, ts } from "../db/sql.ts";
import { type MonitorConfig } from "../houston-yml.ts";
import { type NamePattern, namePattern, namePatternProblem } from "../name-pattern.ts";
import { enqueue, type OutboxMessage } from "../outbox/enqueue.ts";
import {
  buildAckEvent,
  buildResolveEvent,
  buildTriggerEvent,
  type PageableIncident,
} from "../pagerduty/events.ts";
import { BREACH_KINDS, type Breach, MISSED_LOOKBACK_MS } from "./evaluate.ts";

/** resolved_by of incidents Houston resolved itself (the breach cleared). */
export const HOUSTON = "houston";
/** Held for the length of every transaction that changes incidents: one writer at a time. */
const INCIDENT_LOCK = 7_212_026_002;
/** This many (or more) new incidents of one group and channel in one evaluation share one Slack post. */
export const GROUP_POST_MIN = 3;

export interface Notify {
  /** Id of the first incident of the Slack post this incident went out in. */
  post?: number;
  /** A PagerDuty trigger was enqueued (so acknowledge/resolve are sent too). */
  paged?: boolean;
}

export interface IncidentRecord {
  id: number;
  key: string;
  kind: string;
  subjectType: string;
  subject: string;
  jobId: number | null;
  datasetId: number | null;
  groupName: string | null;
  severity: Severity;
  state: IncidentState;
  summary: string;
  details: Record<string, unknown> & { notify?: Notify };
  openedAt: Date;
  lastSeenAt: Date;
  acknowledgedAt: Date | null;
  acknowledgedBy: string | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  silenced: boolean;
  slackChannel: string | null;
  slackTs: string | null;
  routingKey: string | null;
  nextReminderAt: Date | null;
}

const COLUMNS = sql`i.id::float8 AS id, i.key, i.kind, i.subject_type, i.subject, i.job_id, i.dataset_id, i.group_name,
  i.severity, i.state, i.summary, i.details,
  (extract(epoch from i.opened_at) * 1000)::float8 AS opened_at,
  (extract(epoch from i.last_seen_at) * 1000)::float8 AS last_seen_at,
  (extract(epoch from i.acknowledged_at) * 1000)::float8 AS acknowledged_at, i.acknowledged_by,
  (extract(epoch from i.resolved_at) * 1000)::float8 AS resolved_at, i.resolved_by, i.silenced,
  i.slack_channel, i.slack_ts, i.routing_key,
  (extract(epoch from i.next_reminder_at) * 1000)::float8 AS next_reminder_at`;

const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(Number(v)));

function toIncident(r: Record<string, unknown>): IncidentRecord {
  const details = typeof r["details"] === "string" ? JSON.parse(r["details"] as string) : r["details"];
  return {
    id: Number(r["id"]),
    key: String(r["key"]),
    kind: String(r["kind"]),
    subjectType: String(r["subject_type"]),
    subject: String(r["subject"]),
    jobId: r["job_id"] === null ? null : Number(r["job_id"]),
    datasetId: r["dataset_id"] === null ? null : Number(r["dataset_id"]),
    groupName: (r["group_name"] as string | null) ?? null,
    severity: r["severity"] as Severity,
    state: r["state"] as IncidentState,
    summary: String(r["summary"]),
    details: (details ?? {}) as IncidentRecord["details"],
    openedAt: date(r["opened_at"])!,
    lastSeenAt: date(r["last_seen_at"])!,
    acknowledgedAt: date(r["acknowledged_at"]),
    acknowledgedBy: (r["acknowledged_by"] as string | null) ?? null,
    resolvedAt: date(r["resolved_at"]),
    resolvedBy: (r["resolved_by"] as string | null) ?? null,
    silenced: r["silenced"] === true || r["silenced"] === "t",
    slackChannel: (r["slack_channel"] as string | null) ?? null,
    slackTs: (r["slack_ts"] as string | null) ?? null,
    routingKey: (r["routing_key"] as string | null) ?? null,
    nextReminderAt: date(r["next_reminder_at"]),
  };
}

const lock = (store: Store, tx: Executor) =>
  store.query(sql`SELECT pg_advisory_xact_lock(${INCIDENT_LOCK})`, tx);

const pages = (i: { severity: Severity; routingKey: string | null }) =>
  i.routingKey !== null && (i.severity === "critical" || i.severity === "error");

function pageable(i: IncidentRecord): PageableIncident {
  const { notify: _notify, ...details } = i.details;
  return {
    key: i.key,
    kind: i.kind,
    subject: i.subject,
    summary: i.summary,
    severity: i.severity,
    groupName: i.groupName,
    details,
    routingKey: i.routingKey,
  };
}

const slackMessage = (action: "post" | "update" | "reminder", ids: number[]): OutboxMessage => ({
  target: "slack",
  orderingKey: `incident:${ids[0]}`,
  payload: { kind: "incident", action, incidentIds: ids },
});

/** Collects Slack updates per post, so one change to five incidents of a post is one row. */
class SlackUpdates {
  private byPost = new Map<number, Set<number>>();
  constructor(private readonly action: "update" | "reminder" = "update") {}
  add(i: IncidentRecord): void {
    const post = i.details.notify?.post;
    if (post === undefined) return;
    const set = this.byPost.get(post) ?? new Set<number>();
    set.add(i.id);
    this.byPost.set(post, set);
  }
  messages(): OutboxMessage[] {
    return [...this.byPost.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([post, ids]) => ({
        target: "slack" as const,
        orderingKey: `incident:${post}`,
        payload: { kind: "incident", action: this.action, incidentIds: [...ids].sort((a, b) => a - b) },
      }));
  }
}

// ---------------------------------------------------------------------------------------
// Silences

export type SilenceSubjectType = "job" | "dataset" | "group";
export const SILENCE_SUBJECT_TYPES: readonly SilenceSubjectType[] = ["job", "dataset", "group"];

export interface SilenceRecord {
  id: number;
  subjectType: SilenceSubjectType;
  /** A name or a pattern with * wildcards. */
  subject: string;
  startsAt: Date;
  endsAt: Date;
  reason: string | null;
  createdBy: string | null;
}

const SILENCE_COLUMNS = sql`s.id::float8 AS id, s.subject_type, s.subject,
  (extract(epoch from s.starts_at) * 1000)::float8 AS starts_at,
  (extract(epoch from s.ends_at) * 1000)::float8 AS ends_at, s.reason, s.created_by`;

function toSilence(r: Record<string, unknown>): SilenceRecord {
  return {
    id: Number(r["id"]),
    subjectType: r["subject_type"] as SilenceSubjectType,
    subject: String(r["subject"]),
    startsAt: date(r["starts_at"])!,
    endsAt: date(r["ends_at"])!,
    reason: (r["reason"] as string | null) ?? null,
    createdBy: (r["created_by"] as string | null) ?? null,
  };
}

interface Coverable {
  subjectType: string;
  subject: string;
  group: string | null;
  job: { namespace: string; name: string } | null;
  dataset: { namespace: string; name: string } | null;
}

const named = (re: NamePattern, n: { namespace: string; name: string } | null) =>
  n !== null && (re.test(n.name) || re.test(`${n.namespace}/${n.name}`));

function silencedBy(silences: SilenceRecord[], b: Coverable): SilenceRecord | undefined {
  return silences.find((s) => {
    const re = namePattern(s.subject);
    switch (s.subjectType) {
      case "job":
        return named(re, b.job) || (b.subjectType === "job" && re.test(b.subject));
      case "dataset":
        return named(re, b.dataset) || (b.subjectType === "dataset" && re.test(b.subject));
      case "group":
        return b.group !== null && re.test(b.group);
    }
    return false;
  });
}

function maintenanceNames(b: Coverable): string[] {
  const out = [b.subject];
  if (b.group) out.push(b.group);
  for (const n of [b.job, b.dataset]) if (n) out.push(n.name, `${n.namespace}/${n.name}`);
  return out;
}

async function activeSilences(store: Store, at: Date, tx?: Executor): Promise<SilenceRecord[]> {
  const rows = await store.query<Record<string, unknown>>(
    sql`SELECT ${SILENCE_COLUMNS} FROM silences s WHERE s.ends_at > ${ts(at)} AND s.starts_at <= ${ts(at)}
        ORDER BY s.ends_at, s.id`,
    tx,
  );
  return rows.map(toSilence);
}

/** Silences in force at `at` (soonest to end first): for /houston silences. */
export function listSilences(store: Store, at: Date): Promise<SilenceRecord[]> {
  return activeSilences(store, at);
}

export interface SilenceInput {
  subjectType: SilenceSubjectType;
  subject: string;
  /** Now, by the caller's clock. */
  at: Date;
  /** Start; default `at`. */
  from?: Date;
  until: Date;
  reason?: string | null;
  by: string;
}

/**
 * Records a silence and stops notifications (reminders) of open incidents it covers. While
 * it lasts, new breaches of the subject are recorded silenced; when it ends, breaches that
 * persist are announced.
 */
export async function silence(store: Store, input: SilenceInput): Promise<SilenceRecord> {
  if (!SILENCE_SUBJECT_TYPES.includes(input.subjectType)) {
    throw new RangeError(`a silence is for a job, a dataset or a group, not "${input.subjectType}"`);
  }
  if (!input.subject.trim())
    throw new RangeError("a silence needs a subject (a name or a pattern like orders_*)");
  const problem = namePatternProblem(input.subject.trim());
  if (problem) throw new RangeError(`a silence's subject ${problem}`);
  const from = input.from ?? input.at;
  if (input.until.getTime() <= from.getTime()) throw new RangeError("a silence must end after it starts");
  return store.transaction(async (tx) => {
    await lock(store, tx);
    const rows = await store.query<Record<string, unknown>>(
      sql`INSERT INTO silences AS s (subject_type, subject, starts_at, ends_at, reason, created_by)
          VALUES (${input.subjectType}, ${input.subject.trim()}, ${ts(from)}, ${ts(input.until)},
            ${input.reason ?? null}, ${input.by})
          RETURNING ${SILENCE_COLUMNS}`,
      tx,
    );
    const created = toSilence(rows[0]!);
    if (from.getTime() <= input.at.getTime()) {
      const open = await openWithNames(store, tx);
      const covered = open.filter((o) => silencedBy([created], o)).map((o) => o.id);
      if (covered.length) {
        const rows = await store.query<Record<string, unknown>>(
          sql`UPDATE incidents SET silenced = true, next_reminder_at = NULL
              WHERE id IN (SELECT value::bigint FROM jsonb_array_elements_text(${json(covered)}))
              RETURNING id::float8 AS id, details`,
          tx,
        );
        // Their Slack messages show the silence (and drop the Silence button).
        const updates = new SlackUpdates("update");
        for (const r of rows) {
          const details =
            typeof r["details"] === "string" ? JSON.parse(r["details"] as string) : r["details"];
          updates.add({ id: Number(r["id"]), details } as IncidentRecord);
        }
        await enqueue(store, tx, updates.messages());
      }
    }
    return created;
  });
}

/** Ends a silence now. False when there is no such silence in force. */
export async function endSilence(store: Store, id: number, at: Date): Promise<boolean> {
  const rows = await store.query<{ id: number }>(
    sql`UPDATE silences SET ends_at = ${ts(at)} WHERE id = ${id} AND ends_at > ${ts(at)} RETURNING id::float8 AS id`,
  );
  return rows.length === 1;
}

async function openWithNames(store: Store, tx: Executor): Promise<(Coverable & { id: number })[]> {
  const rows = await store.query<Record<string, unknown>>(
    sql`SELECT i.id::float8 AS id, i.subject_type, i.subject, i.group_name,
          j.namespace AS job_namespace, j.name AS job_name, d.namespace AS ds_namespace, d.name AS ds_name
        FROM incidents i LEFT JOIN jobs j ON j.id = i.job_id LEFT JOIN datasets d ON d.id = i.dataset_id
        WHERE i.state <> 'resolved' AND NOT i.silenced`,
    tx,
  );
  return rows.map((r) => ({
    id: Number(r["id"]),
    subjectType: String(r["subject_type"]),
    subject: String(r["subject"]),
    group: (r["group_name"] as string | null) ?? null,
    job:
      r["job_name"] === null ? null : { namespace: String(r["job_namespace"]), name: String(r["job_name"]) },
    dataset:
      r["ds_name"] === null ? null : { namespace: String(r["ds_namespace"]), name: String(r["ds_name"]) },
  }));
}

// ---------------------------------------------------------------------------------------
// Applying an evaluation

export interface ApplyResult {
  /** New incidents (silenced ones included). */
  opened: number;
  /** Open incidents seen again (and resolved ones re-triggered). */
  updated: number;
  resolved: number;
  /** Incidents recorded or turned silenced by this evaluation. */
  silenced: number;
  /** Outbox rows written. */
  outbox: number;
}

const SLOT_KINDS = new Set(["missed_run", "late_start"]);
const KINDS = new Set<string>(BREACH_KINDS);

export async function applyBreaches(
  store: Store,
  at: Date,
  breaches: Breach[],
  config: MonitorConfig,
): Promise<ApplyResult> {
  const unique = new Map<string, Breach>();
  for (const b of breaches) if (!unique.has(b.key)) unique.set(b.key, b);
  const quiet = config.inQuietHours(at);
  const reminderMs = config.reminderMs;
  const buildOpts = { timestamp: at, ...(config.linkBase ? { clientUrl: config.linkBase } : {}) };

  return store.transaction(async (tx) => {
    await lock(store, tx);
    const silences = await activeSilences(store, at, tx);
    const rows = await store.query<Record<string, unknown>>(
      sql`SELECT ${COLUMNS} FROM incidents i WHERE i.key IN (SELECT value FROM jsonb_array_elements_text(${json([...unique.keys()])}))
          UNION
          SELECT ${COLUMNS} FROM incidents i WHERE i.state <> 'resolved'`,
      tx,
    );
    const known = rows.map(toIncident);
    const byKey = new Map(known.map((i) => [i.key, i]));
    const open = known.filter((i) => i.state !== "resolved");
    const result: ApplyResult = { opened: 0, updated: 0, resolved: 0, silenced: 0, outbox: 0 };
    const changed = new Map<number, IncidentRecord>();
    const seen = new Set<number>();
    const posts: IncidentRecord[] = [];
    const reminders = new SlackUpdates("reminder");
    const updates = new SlackUpdates("update");
    const pd: OutboxMessage[] = [];
    const covers = (b: Breach) =>
      silencedBy(silences, b) !== undefined || config.maintenanceFor(at, maintenanceNames(b)) !== undefined;
    const page = (i: IncidentRecord) => {
      if (!pages(i) || i.silenced || i.details.notify?.paged) return;
      if (quiet && i.severity !== "critical") return;
      pd.push({
        target: "pagerduty",
        orderingKey: i.key,
        payload: buildTriggerEvent(pageable(i), buildOpts),
      });
      i.details.notify = { ...i.details.notify, paged: true };
    };
    const announce = (i: IncidentRecord, nudge: SlackUpdates = reminders) => {
      // (Re-)announces an incident that is not silenced: a post, or a nudge of its post.
      if (i.slackChannel === null) return;
      if (i.details.notify?.post === undefined) posts.push(i);
      else nudge.add(i);
      i.nextReminderAt = reminderMs > 0 ? new Date(at.getTime() + reminderMs) : null;
    };

    const fresh: Breach[] = [];
    for (const b of unique.values()) {
      let inc = byKey.get(b.key);
      if ((!inc || inc.state === "resolved") && b.episode) {
        inc = open.find((o) => o.kind === b.kind && o.key.startsWith(b.episode!)) ?? inc;
      }
      if (!inc) {
        fresh.push(b);
        continue;
      }
      const covered = covers(b);
      const notify = inc.details.notify;
      const next: IncidentRecord = {
        ...inc,
        lastSeenAt: at,
        details: { ...b.details, ...(notify ? { notify } : {}) },
      };
      seen.add(inc.id);
      if (inc.state === "resolved") {
        if (inc.resolvedBy !== HOUSTON) {
          changed.set(inc.id, { ...inc, lastSeenAt: at });
          continue; // a person resolved it: it stays resolved for this key
        }
        Object.assign(next, {
          state: "triggered",
          kind: b.kind,
          severity: b.severity,
          summary: b.summary,
          resolvedAt: null,
          resolvedBy: null,
          acknowledgedAt: null,
          acknowledgedBy: null,
          silenced: covered,
        });
        next.details.notify = { ...notify, paged: false };
        result.updated++;
        if (covered) result.silenced++;
        else {
          announce(next, updates);
          page(next);
        }
        changed.set(inc.id, next);
        continue;
      }
      result.updated++;
      const kindChanged = inc.kind !== b.kind;
      Object.assign(next, { kind: b.kind, severity: b.severity, summary: b.summary });
      if (inc.silenced && !covered) {
        next.silenced = false; // the silence or window ended and it is still broken
        if (inc.state === "triggered") {
          announce(next);
          page(next);
        }
      } else if (!inc.silenced && covered) {
        next.silenced = true;
        next.nextReminderAt = null;
        result.silenced++;
      } else if (!inc.silenced) {
        if (kindChanged) updates.add(next);
        if (inc.state === "triggered") page(next); // held back by quiet hours until now
      }
      changed.set(inc.id, next);
    }

    // Resolve what no longer breaches.
    for (const inc of open) {
      if (seen.has(inc.id) || !KINDS.has(inc.kind)) continue;
      if (SLOT_KINDS.has(inc.kind)) {
        const due = Date.parse(String(inc.details["dueAt"] ?? inc.details["slotAt"] ?? ""));
        if (Number.isFinite(due) && due <= at.getTime() - MISSED_LOOKBACK_MS) continue; // no longer evaluated
      }
      const next: IncidentRecord = {
        ...inc,
        state: "resolved",
        resolvedAt: at,
        resolvedBy: HOUSTON,
        nextReminderAt: null,
      };
      result.resolved++;
      if (next.details.notify?.post !== undefined) updates.add(next);
      if (next.details.notify?.paged && next.routingKey) {
        pd.push({
          target: "pagerduty",
          orderingKey: next.key,
          payload: buildResolveEvent(pageable(next), buildOpts),
        });
      }
      changed.set(inc.id, next);
    }

    // Open new incidents.
    if (fresh.length) {
      const input = fresh.map((b) => ({
        key: b.key,
        kind: b.kind,
        subject_type: b.subjectType,
        subject: b.subject,
        job_id: b.jobId,
        dataset_id: b.datasetId,
        group_name: b.group,
        severity: b.severity,
        summary: b.summary,
        details: b.details,
        silenced: covers(b),
        slack_channel: b.channel,
        routing_key: b.routingKey,
      }));
      const inserted = await store.query<Record<string, unknown>>(
        sql`INSERT INTO incidents AS i (key, kind, subject_type, subject, job_id, dataset_id, group_name, severity, state,
              summary, details, opened_at, last_seen_at, silenced, slack_channel, routing_key)
            SELECT key, kind, subject_type, subject, job_id, dataset_id, group_name, severity, 'triggered',
              summary, details, ${ts(at)}, ${ts(at)}, silenced, slack_channel, routing_key
            FROM jsonb_to_recordset(${json(input)}) AS x(key text, kind text, subject_type text, subject text,
              job_id int, dataset_id int, group_name text, severity text, summary text, details jsonb,
              silenced boolean, slack_channel text, routing_key text)
            ORDER BY key
            ON CONFLICT (key) DO UPDATE SET last_seen_at = excluded.last_seen_at
            RETURNING ${COLUMNS}, (xmax = 0) AS inserted`,
        tx,
      );
      for (const r of inserted) {
        const inc = toIncident(r);
        if (r["inserted"] !== true && r["inserted"] !== "t") continue; // another writer had it (cannot happen under the lock)
        result.opened++;
        if (inc.silenced) {
          result.silenced++;
          continue;
        }
        announce(inc);
        page(inc);
        changed.set(inc.id, inc);
      }
    }

    // One post per new incident, or one per group of more than two in a channel.
    const groups = new Map<string, IncidentRecord[]>();
    for (const i of posts) {
      const k = `${i.slackChannel}\u001f${i.groupName ?? `\u001e${i.id}`}`;
      groups.set(k, [...(groups.get(k) ?? []), i]);
    }
    const slack: OutboxMessage[] = [];
    const postSets = [...groups.values()].flatMap((g) =>
      g.length >= GROUP_POST_MIN ? [g] : g.map((i) => [i]),
    );
    postSets.sort((a, b) => a[0]!.id - b[0]!.id);
    for (const set of postSets) {
      const ids = set.map((i) => i.id).sort((a, b) => a - b);
      for (const i of set) i.details.notify = { ...i.details.notify, post: ids[0]! };
      slack.push(slackMessage("post", ids));
    }
    slack.push(...updates.messages(), ...reminders.messages());

    if (changed.size) {
      const patch = [...changed.values()].map((i) => ({
        id: i.id,
        state: i.state,
        kind: i.kind,
        severity: i.severity,
        summary: i.summary,
        details: i.details,
        last_seen_at: i.lastSeenAt.toISOString(),
        acknowledged_at: i.acknowledgedAt?.toISOString() ?? null,
        acknowledged_by: i.acknowledgedBy,
        resolved_at: i.resolvedAt?.toISOString() ?? null,
        resolved_by: i.resolvedBy,
        silenced: i.silenced,
        next_reminder_at: i.nextReminderAt?.toISOString() ?? null,
      }));
      await store.query(
        sql`UPDATE incidents AS i SET state = x.state, kind = x.kind, severity = x.severity, summary = x.summary,
              details = x.details, last_seen_at = x.last_seen_at, acknowledged_at = x.acknowledged_at,
              acknowledged_by = x.acknowledged_by, resolved_at = x.resolved_at, resolved_by = x.resolved_by,
              silenced = x.silenced, next_reminder_at = x.next_reminder_at
            FROM jsonb_to_recordset(${json(patch)}) AS x(id bigint, state text, kind text, severity text, summary text,
              details jsonb, last_seen_at timestamptz, acknowledged_at timestamptz, acknowledged_by text,
              resolved_at timestamptz, resolved_by text, silenced boolean, next_reminder_at timestamptz)
            WHERE i.id = x.id`,
        tx,
      );
    }
    const messages = [...slack, ...pd];
    await enqueue(store, tx, messages);
    result.outbox = messages.length;
    return result;
  });
}

// ---------------------------------------------------------------------------------------
// People acting on incidents (Slack buttons, /houston, PagerDuty webhooks)

export type ActionSource = "slack" | "pagerduty" | "cli";

export interface IncidentAction {
  key?: string;
  id?: number;
  /** Who: a Slack user, a PagerDuty user's name. */
  by: string;
  at: Date;
  /** Where it happened: that side is not told again (no PagerDuty event for a PagerDuty ack). */
  source: ActionSource;
}

export interface IncidentChange {
  /** "unknown": no such incident; "unchanged": it already was in (or past) that state. */
  status: "updated" | "unchanged" | "unknown";
  incident?: IncidentRecord;
}

async function transition(
  store: Store,
  action: IncidentAction,
  to: "acknowledged" | "resolved",
  buildOpts: { clientUrl?: string } = {},
): Promise<IncidentChange> {
  if (action.key === undefined && action.id === undefined)
    throw new RangeError("give the incident's key or id");
  return store.transaction(async (tx) => {
    await lock(store, tx);
    const rows = await store.query<Record<string, unknown>>(
      action.id !== undefined
        ? sql`SELECT ${COLUMNS} FROM incidents i WHERE i.id = ${action.id}`
        : sql`SELECT ${COLUMNS} FROM incidents i WHERE i.key = ${action.key!}`,
      tx,
    );
    if (!rows[0]) return { status: "unknown" as const };
    const inc = toIncident(rows[0]);
    if (inc.state === "resolved" || inc.state === to) return { status: "unchanged" as const, incident: inc };
    const next: IncidentRecord =
      to === "acknowledged"
        ? { ...inc, state: to, acknowledgedAt: action.at, acknowledgedBy: action.by, nextReminderAt: null }
        : { ...inc, state: to, resolvedAt: action.at, resolvedBy: action.by, nextReminderAt: null };
    await store.query(
      sql`UPDATE incidents SET state = ${next.state}, acknowledged_at = ${next.acknowledgedAt ? ts(next.acknowledgedAt) : null},
            acknowledged_by = ${next.acknowledgedBy}, resolved_at = ${next.resolvedAt ? ts(next.resolvedAt) : null},
            resolved_by = ${next.resolvedBy}, next_reminder_at = NULL
          WHERE id = ${inc.id}`,
      tx,
    );
    const messages: OutboxMessage[] = [];
    const post = inc.details.notify?.post;
    if (post !== undefined) {
      messages.push({
        target: "slack",
        orderingKey: `incident:${post}`,
        payload: { kind: "incident", action: "update", incidentIds: [inc.id] },
      });
    }
    if (action.source !== "pagerduty" && inc.details.notify?.paged && inc.routingKey) {
      const body =
        to === "acknowledged"
          ? buildAckEvent(pageable(inc), buildOpts)
          : buildResolveEvent(pageable(inc), buildOpts);
      messages.push({ target: "pagerduty", orderingKey: inc.key, payload: body });
    }
    await enqueue(store, tx, messages);
    return { status: "updated" as const, incident: next };
  });
}

/** triggered → acknowledged: stops reminders; tells PagerDuty (unless it came from there) and Slack. */
export function acknowledgeIncident(store: Store, action: IncidentAction): Promise<IncidentChange> {
  return transition(store, action, "acknowledged");
}

/**
 * triggered/acknowledged → resolved by a person: tells PagerDuty (unless it came from there)
 * and Slack. Houston will not re-open this key even if the breach persists.
 */
export function resolveIncident(store: Store, action: IncidentAction): Promise<IncidentChange> {
  return transition(store, action, "resolved");
}

/**
 * What the PagerDuty webhook's onIncidentChange needs: applies an acknowledge or resolve
 * made in PagerDuty (no PagerDuty event back, a Slack update). "unknown": not our incident.
 */
export async function applyPagerDutyChange(
  store: Store,
  change: { key: string; state: "acknowledged" | "resolved"; by: string; at: Date },
): Promise<"updated" | "unknown"> {
  const action: IncidentAction = { key: change.key, by: change.by, at: change.at, source: "pagerduty" };
  const r =
    change.state === "acknowledged"
      ? await acknowledgeIncident(store, action)
      : await resolveIncident(store, action);
  return r.status === "unknown" ? "unknown" : "updated";
}

export async function getIncident(
  store: Store,
  ref: { id?: number; key?: string },
): Promise<IncidentRecord | undefined> {
  const rows = await store.query<Record<string, unknown>>(
    ref.id !== undefined
      ? sql`SELECT ${COLUMNS} FROM incidents i WHERE i.id = ${ref.id}`
      : sql`SELECT ${COLUMNS} FROM incidents i WHERE i.key = ${ref.key ?? ""}`,
  );
  return rows[0] ? toIncident(rows[0]) : undefined;
}

/** Open (triggered or acknowledged) incidents, newest first: for /houston incidents. */
export async function listOpenIncidents(
  store: Store,
  opts: { limit?: number; includeSilenced?: boolean } = {},
): Promise<IncidentRecord[]> {
  const rows = await store.query<Record<string, unknown>>(
    sql`SELECT ${COLUMNS} FROM incidents i WHERE i.state <> 'resolved'
        ${opts.includeSilenced === false ? sql`AND NOT i.silenced` : sql``}
        ORDER BY i.opened_at DESC, i.id DESC LIMIT ${opts.limit ?? 100}`,
  );
  return rows.map(toIncident);
}

// ---------------------------------------------------------------------------------------
// Reminders

/**
 * Unacknowledged open incidents whose next_reminder_at has come get one Slack "reminder"
 * row per post, and next_reminder_at moves to the next multiple of the interval after
 * `at`. One transaction. Returns how many incidents were reminded.
 */
export async function dueReminders(store: Store, at: Date, reminderMs: number): Promise<number> {
  if (!(reminderMs > 0)) return 0;
  return store.transaction(async (tx) => {
    await lock(store, tx);
    const rows = await store.query<Record<string, unknown>>(
      sql`UPDATE incidents SET next_reminder_at = next_reminder_at
            + (floor(extract(epoch from (${ts(at)} - next_reminder_at)) * 1000 / ${reminderMs}) + 1)
              * ${reminderMs} * interval '1 millisecond'
          WHERE state <> 'resolved' AND state = 'triggered' AND NOT silenced AND next_reminder_at <= ${ts(at)}
          RETURNING id::float8 AS id, details`,
      tx,
    );
    const reminders = new SlackUpdates("reminder");
    for (const r of rows) {
      const details = typeof r["details"] === "string" ? JSON.parse(r["details"] as string) : r["details"];
      reminders.add({ id: Number(r["id"]), details } as IncidentRecord);
    }
    await enqueue(store, tx, reminders.messages());
    return rows.length;
  });
}
