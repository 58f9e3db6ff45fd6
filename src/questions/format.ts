// Small shared pieces of answers: durations, status icons, percentages, and picking the
// subject (job, dataset, …) a question is about.
import { type SQL, sql } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { closest, findKnown, knownNames, type NameKind, resolveName, UnknownNameError } from "./resolve.ts";
import type { AskContext, Question } from "./types.ts";

/** 52 min, 1h 05m, 3.2 s, 2d 4h. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function statusIcon(status: string): string {
  switch (status) {
    case "success":
    case "pass":
      return ":white_check_mark:";
    case "failed":
    case "fail":
    case "error":
      return ":x:";
    case "running":
      return ":arrows_counterclockwise:";
    case "warn":
      return ":warning:";
    case "cancelled":
    case "rolled_back":
      return ":leftwards_arrow_with_hook:";
    default:
      return ":white_circle:";
  }
}

export function pct(part: number, whole: number): string {
  if (whole === 0) return "–";
  const p = (100 * part) / whole;
  return `${p >= 99.95 || p < 0.05 ? p.toFixed(0) : p.toFixed(1)}%`;
}

/** Words of the question that could be a name (for questions that use no quotes or underscores). */
export function plainWords(q: Question): string[] {
  return q.text.split(/\s+/).filter((w) => w.length > 2);
}

/**
 * The name of a `kind` the question is about: the first of its names that is known;
 * else, when it has name-like tokens, the first of them (which raises "did you mean");
 * else any plain word that is a known name. Throws UnknownNameError when there is none.
 */
export async function subject(store: Store, q: Question, kind: NameKind): Promise<string> {
  const known = await findKnown(store, kind, q.names);
  if (known) return known;
  const fromWords = await findKnown(store, kind, plainWords(q));
  if (fromWords) return fromWords;
  if (q.names.length) return resolveName(store, kind, q.names[0]!);
  throw new UnknownNameError(kind, "(none given)", []);
}

export const jobSubject = (store: Store, q: Question) => subject(store, q, "job");

/** The group or job a fleet question is narrowed to, if it names one; an unknown name raises did-you-mean. */
export async function scopeOf(ctx: AskContext, q: Question): Promise<Scope | undefined> {
  if (!q.names.length) return undefined;
  const job = await findKnown(ctx.store, "job", q.names);
  if (job) return { kind: "job", name: job };
  const group = await findKnown(ctx.store, "group", q.names);
  if (group) return { kind: "group", name: group };
  const given = q.names[0]!;
  const jobs = closest(given, await knownNames(ctx.store, "job"));
  if (jobs.length) throw new UnknownNameError("job", given, jobs);
  throw new UnknownNameError("group", given, closest(given, await knownNames(ctx.store, "group")));
}

export type Scope = { kind: "group" | "job"; name: string };

/**
 * The SQL filters a scoped, fleet-wide question adds to a query joined to jobs `j` (and runs
 * `r`): the job or group from scopeOf(), and the environment (the job's, or the run's own).
 */
export function scopeFilter(q: Question, scope: Scope | undefined): { scopeJ: SQL; envJ: SQL; envR: SQL } {
  return {
    scopeJ: scope
      ? scope.kind === "group"
        ? sql`AND j.group_name = ${scope.name}`
        : sql`AND j.name = ${scope.name}`
      : sql``,
    envJ: q.environment ? sql`AND j.environment = ${q.environment}` : sql``,
    envR: q.environment ? sql`AND r.environment = ${q.environment}` : sql``,
  };
}
