// Turns what a person typed into a Question: the time window, the environment, the
// names it mentions, and normalized text for the families to match on.
import { parseTimeWindow, untilNow } from "../time/index.ts";
import type { Question } from "./types.ts";

const ENVIRONMENTS: Record<string, string> = {
  prod: "prod",
  production: "prod",
  prd: "prod",
  staging: "staging",
  stage: "staging",
  stg: "staging",
  dev: "dev",
  development: "dev",
  qa: "qa",
  test: "qa",
  uat: "qa",
};
const ENV_RE = /\b(?:in|on|for)\s+(prod|production|prd|staging|stage|stg|dev|development|qa|uat)\b/;

/** Words that look like identifiers but are not names of anything. */
const NOT_NAMES = new Set(["p50", "p95", "p99", "24h", "7d", "1h", "utc", "--share", "n/a", "and/or"]);
/** Ordinary hyphenated or slashed words ("up-to-date", "pass/fail") are not names. */
const PLAIN_COMPOUND = /^(?:[a-z]+[-/])+[a-z]+$/;
const COMMON_COMPOUNDS = new Set([
  "up-to-date",
  "on-time",
  "pass/fail",
  "success/failure",
  "day-over-day",
  "week-over-week",
  "real-time",
  "right-now",
  "long-running",
  "run-time",
  "prod/dev",
  "dev/prod",
  "in-flight",
  "follow-up",
]);

export function parseQuestion(input: string, now: Date, timezone: string): Question {
  // "/houston status" typed into a DM or a mention means "status".
  let raw = input
    .trim()
    .replace(/\s+/g, " ")
    .replace(/^\/houston\b\s*/i, "");
  let share = false;
  if (/(^|\s)--share$/.test(raw)) {
    share = true;
    raw = raw.replace(/\s*--share$/, "").trim();
  }
  // Slack wraps links and mentions: <#C123|general>, <@U123>, <http://x|x>.
  const cleaned = raw.replace(/<[#@!][^>|]*\|?([^>]*)>/g, "$1").replace(/<([^>|]+)\|?[^>]*>/g, "$1");
  const names: string[] = [];
  const quoted = /`([^`]+)`|"([^"]+)"|'([^']+)'|“([^”]+)”/g;
  for (let m = quoted.exec(cleaned); m; m = quoted.exec(cleaned))
    names.push((m[1] ?? m[2] ?? m[3] ?? m[4])!.trim());
  let text = cleaned.toLowerCase().replace(/[`"“”]/g, " ");
  const parsed = parseTimeWindow(text, now, timezone);
  const window = parsed && untilNow(parsed, now);
  if (window) text = text.replace(window.phrase, " ");
  let environment: string | undefined;
  const env = ENV_RE.exec(text);
  if (env) {
    environment = ENVIRONMENTS[env[1]!];
    text = text.replace(env[0], " ");
  }
  // Identifier-like tokens keep their original case from the cleaned input.
  for (const tok of cleaned.replace(/[`"“”?,!;()]/g, " ").split(/\s+/)) {
    const t = tok.replace(/^[.:'’]+|[.:'’]+$/g, "").replace(/'s$/, "");
    if (!t || NOT_NAMES.has(t.toLowerCase())) continue;
    if (/^\d{4}-\d{2}-\d{2}$/.test(t)) continue;
    // "6h" in "in the last 6h" is the time, not a name.
    if (window && window.phrase.split(/\s+/).includes(t.toLowerCase())) continue;
    if (PLAIN_COMPOUND.test(t.toLowerCase()) && COMMON_COMPOUNDS.has(t.toLowerCase())) continue;
    if (/[_./-]/.test(t) || /[a-z]\d|\d[a-z]/i.test(t)) {
      if (!names.includes(t)) names.push(t);
    }
  }
  text = text
    .replace(/[?!,;()]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  const q: Question = { raw, text, share, names };
  if (window) q.window = window;
  if (environment) q.environment = environment;
  return q;
}
