// Periods and environments as the deploy, project, schema and environment questions read
// them: one vocabulary, so "prod", "production" and "to prod" mean the same everywhere.
import { type SQL, sql } from "drizzle-orm";
import { subDays } from "date-fns";
import { json } from "../db/sql.ts";
import type { Question } from "./types.ts";

export interface Period {
  from: Date;
  to: Date;
  /** As time.ts labels windows: "the last 30 days", "this week", "yesterday (Sat 21 Nov)". */
  label: string;
  /** The question named the period (else it is the family's default). */
  given: boolean;
}

const DAY_MS = 86_400_000;

/**
 * The question's window (time.ts reads "this month" and "last month" too), else "the past
 * month", else the family's default of the last `defaultDays` days.
 */
export function periodOf(q: Question, now: Date, defaultDays: number): Period {
  if (q.window) return { from: q.window.from, to: q.window.to, label: q.window.label, given: true };
  if (/\b(?:past|recent) month\b/.test(q.text)) {
    return { from: subDays(now, 30), to: now, label: "the last 30 days", given: true };
  }
  return { from: subDays(now, defaultDays), to: now, label: `the last ${defaultDays} days`, given: false };
}

/** Days (fractional) in a period, for rates. */
export function periodDays(p: Period): number {
  return Math.max((p.to.getTime() - p.from.getTime()) / DAY_MS, 1 / 24);
}

/** Words people use for environments → the canonical name parse.ts uses. */
export const ENV_WORDS: Record<string, string> = {
  prod: "prod",
  production: "prod",
  prd: "prod",
  live: "prod",
  staging: "staging",
  stage: "staging",
  stg: "staging",
  dev: "dev",
  development: "dev",
  sandbox: "dev",
  qa: "qa",
  test: "qa",
  uat: "qa",
};
const ENV_ALTERNATION = "prod|production|prd|staging|stage|stg|dev|development|qa|uat";

/** Stored values that mean an environment: sources write "production" as often as "prod". */
export function envValues(env: string): string[] {
  const vals = Object.entries(ENV_WORDS)
    .filter(([word, canon]) => canon === env && word !== "live" && word !== "sandbox" && word !== "test")
    .map(([word]) => word);
  return vals.length ? vals : [env.toLowerCase()];
}

/** The canonical environment of a stored value ("Production" → "prod"); unknown values as given. */
export function canonicalEnv(value: string | null): string | null {
  if (value === null || value === "") return null;
  return ENV_WORDS[value.toLowerCase()] ?? value;
}

/** A condition "column holds environment `env`" (any of its spellings), as bound parameters. */
export function envIn(column: SQL, env: string): SQL {
  return sql`lower(${column}) IN (SELECT jsonb_array_elements_text(${json(envValues(env))}))`;
}

/**
 * The environment a question is about: "in prod" (parse.ts), else "to prod" / "into staging"
 * (where a deploy went), else "prod deploys" / "production schema" (an environment before
 * one of `nouns`).
 */
export function environmentOf(q: Question, nouns: string[] = []): string | undefined {
  if (q.environment) return q.environment;
  const to = new RegExp(`\\b(?:to|into)\\s+(${ENV_ALTERNATION})\\b`).exec(q.text);
  if (to) return ENV_WORDS[to[1]!];
  if (nouns.length) {
    const before = new RegExp(`\\b(${ENV_ALTERNATION})\\s+(?:${nouns.join("|")})\\b`).exec(q.text);
    if (before) return ENV_WORDS[before[1]!];
  }
  return undefined;
}

const ENV_ORDER = ["prod", "staging", "qa", "dev"];

/** prod first, then staging, qa, dev, then anything else alphabetically. */
export function envRank(env: string | null): string {
  const c = canonicalEnv(env);
  const i = c === null ? -1 : ENV_ORDER.indexOf(c);
  return i >= 0 ? `${i}` : `9${c ?? "~"}`;
}
