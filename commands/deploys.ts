// Deploys: did the deploy of an artifact work (its latest deploy, the failed attempts before
// it, every environment's latest), what version of it is where, and how many deploys — by
// kind, status and environment — happened in a period, failures first with what fixed them.
// The rows come from src/db/queries/deploys.ts, each read through one of the table's indexes.
//
// Periods and environments come from src/questions/scope.ts, shared with the sibling
// families (projects, schema-changes, environments).
import {
  type DeployCount,
  deployCounts,
  type DeployFilter,
  type DeployRow,
  deploysNewestFirst,
  type FailedDeploy,
  latestPerArtifactAndEnvironment,
  latestPerEnvironment,
  unsuccessfulDeploys,
} from "../src/db/queries/deploys.ts";
import type { DeployKind } from "../src/db/schema.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { pct, plainWords, statusIcon } from "../src/questions/format.ts";
import { defineMeasure, frameOfWords } from "../src/questions/measure.ts";
import { canonicalEnv, environmentOf, envRank } from "../src/questions/scope.ts";
import { findKnown, resolveName } from "../src/questions/resolve.ts";
import { during, formatDateTime } from "../src/time/index.ts";
import type { AskContext, Question } from "../src/questions/types.ts";
import type { Frame } from "../src/understanding/frame.ts";

const STATUS_WORD: Record<string, string> = {
  success: "succeeded",
  failed: "failed",
  rolled_back: "rolled back",
};

export const statusWord = (s: string): string => STATUS_WORD[s] ?? s;

/** "on Fri 20 Nov 17:05", "yesterday 17:05", "today 08:10". */
export function when(at: Date, tz: string, now: Date): string {
  const s = formatDateTime(at, tz, now);
  return /^(?:today|yesterday)\b/.test(s) ? s : `on ${s}`;
}

/** ✅ `finance_close` v1.8.1 → prod: succeeded on Fri 20 Nov 17:05 (DATA-1252, DATA-1255) */
export function deployLine(d: DeployRow, tz: string, now: Date, withArtifact = true): string {
  const name = withArtifact ? `${code(d.artifact)} ` : "";
  const version = d.version ? esc(d.version) : "(no version)";
  const env = d.environment ? ` → ${esc(d.environment)}` : "";
  const tickets = d.tickets.length ? ` (${d.tickets.map(esc).join(", ")})` : "";
  return `${statusIcon(d.status)} ${name}${version}${env}: ${statusWord(d.status)} ${when(new Date(d.at), tz, now)}${tickets}`;
}

/** Jira-style ticket keys (DATA-1252): upper case, so that a name like etl-2 stays a name. */
export const TICKET = /^[A-Z][A-Z0-9]*-\d+$/;
/** Semver-like versions (v1.8.0, 2.4): a filter, not a name. A commit sha cannot be told from a name. */
const VERSION = /^v?\d+(?:\.\d+)+(?:[-+][\w.]+)?$/i;

const DEPLOY_WORDS =
  /\b(?:re-?)?deploy(?:s|ed|ing|ment|ments)?\b|\bship(?:s|ped)?\b|\broll(?:ed)?[ -]?backs?\b|\bwent live\b|\bgo(?:ne)? live\b/;
const RELEASE_WORDS = /\breleas(?:e|es|ed|ing)\b/;
const VERSION_Q = /\bversions?\b/;
const COUNT_Q = /\bhow (?:many|often|frequently)\b|\bnumber of\b|\bcount\b|\bper (?:day|week)\b/;
/** Plural nouns ask for a list ("failed deploys of X"), not "did the deploy of X work". */
const PLURAL = /\b(?:deploys|deployments|releases|rollbacks)\b/;
const FAILED = /\bfail(?:s|ed|ing|ures?)?\b|\bbroken?\b|\bunsuccessful\b|\bwent wrong\b|\berror(?:s|ed)?\b/;
const ROLLED_BACK = /\broll(?:ed)?[ -]?backs?\b|\breverted\b/;
const SUCCEEDED = /\bsuccessful(?:ly)?\b|\bsucceeded\b|\bsuccess(?:es)?\b|\bworked\b/;
// The schema's deploy kinds (DEPLOY_KINDS) as people say them.
const KIND_WORDS: [RegExp, DeployKind][] = [
  [/\bmodels?\b/, "model"],
  [/\bdashboards?\b/, "dashboard"],
  [/\bcode\b/, "code"],
  [/\bpipelines?\b/, "pipeline"],
  [/\bschemas?\b/, "schema"],
];
/** Nouns an environment may precede: "prod deploys", "staging releases". */
const ENV_NOUNS = ["deploys?", "deployments?", "releases?", "rollbacks?"];

/** Which deploys a count is about: those that failed (or were rolled back), rolled back, succeeded, or all. */
export type DeployStatusAsked = "failed" | "rolled_back" | "success" | undefined;

/** What a deploys question asks beyond its frame (the frame has no slot for these yet). */
export interface DeploysAsk {
  /** "what version … is where" (not a count, no version named). */
  versions: boolean;
  /** "how many / how often": a count even when one artifact is named. */
  counting: boolean;
  /** "deploys of X" (plural): a list even when one artifact is named. */
  plural: boolean;
  /** "how often": the count as a rate per week too. */
  rate: boolean;
  /** "did it fail / was it rolled back": Yes means it did not succeed. */
  asksFailure: boolean;
  status: DeployStatusAsked;
  kinds: DeployKind[];
  /** A version named (v1.8.0): a filter. */
  version?: string;
  /** An environment said as "to prod" or "prod deploys", which the frame may not carry. */
  environment?: string;
  /** The question's names, for a project named beside an artifact. */
  names: string[];
}

/** Which deploys were read: the subject's, narrowed by version, project and environment. */
export interface DeployScope {
  artifact?: string;
  project?: string;
  environment?: string;
  version?: string;
}

export type DeploysData =
  | {
      /** "Did the deploy of X work?": its latest deploys, newest first (at most 200). */
      view: "latest";
      artifact: string;
      scope: DeployScope;
      /** True when the question named a period (else the whole history counts). */
      inPeriod: boolean;
      asksFailure: boolean;
      deploys: DeployRow[];
      /** With none in scope: its latest 3 deploys anywhere, for context. */
      before: DeployRow[];
    }
  | {
      /** "What version is where?" with no artifact: each artifact's latest successful deploy per environment. */
      view: "deployed";
      scope: DeployScope;
      deploys: DeployRow[];
    }
  | {
      /** "What version of X is where?": its latest successful deploy, and its latest of any outcome, per environment. */
      view: "versions";
      artifact: string;
      scope: DeployScope;
      successes: DeployRow[];
      latest: DeployRow[];
    }
  | {
      view: "counts";
      scope: DeployScope;
      status: DeployStatusAsked;
      kinds: DeployKind[];
      rate: boolean;
      /** Days in the period, for the rate. */
      days: number;
      counts: DeployCount[];
      /** The ones that did not succeed, newest first (at most 50), unless successes were asked. */
      failures: FailedDeploy[];
      /** The latest 10 of those counted, unless failures were asked. */
      recent: DeployRow[];
    };

/** The subject the words name, as the family always found it: a project and/or an artifact. */
async function subjectOfWords(ctx: AskContext, q: Question): Promise<Frame["subject"]> {
  const names = q.names.filter((n) => !VERSION.test(n) && !TICKET.test(n));
  const project = await findKnown(ctx.store, "project", names);
  const rest = names.filter((n) => n !== project);
  let artifact =
    (await findKnown(ctx.store, "artifact", rest)) ??
    (project ? undefined : await findKnown(ctx.store, "artifact", plainWords(q)));
  // A name that is neither a project nor an artifact gets "did you mean".
  if (!artifact && rest.length) artifact = await resolveName(ctx.store, "artifact", rest[0]!);
  if (artifact) return { kind: "artifact", name: artifact };
  if (project) return { kind: "project", name: project };
  return { kind: "fleet" };
}

const DAY_MS = 86_400_000;

export default defineMeasure<DeploysData, DeploysAsk>({
  id: "deploys",
  title: "Deploys",
  summary:
    "whether a deploy worked, which version is in which environment, and how many deploys (by kind, status, environment) in a period",
  examples: [
    "did the deployment of finance_close work?",
    "what version of fct_orders is in which environment?",
    "how many deploys failed this month?",
    "how many model deploys in the last 30 days?",
    "failed deploys in the last 7 days",
  ],
  measure: "deploys",
  subjects: ["artifact", "project", "environment", "fleet"],
  defaultDays: 30,
  byDefault: "the last 30 days (an artifact's latest deploy: its whole history)",
  // "Did X deploy" reads the whole history, and a count names its default period itself.
  openingWindow: "asked",
  keywords: {
    match(q) {
      // Tickets released are the projects family's; a schema *change* is schema-changes'.
      if (/\btickets?\b|\bjira\b/.test(q.text) || q.names.some((n) => TICKET.test(n))) return 0;
      if (DEPLOY_WORDS.test(q.text)) return 0.9;
      if (VERSION_Q.test(q.text) && !/\bschemas?\b/.test(q.text)) return 0.85;
      if (RELEASE_WORDS.test(q.text)) return 0.7;
      return 0;
    },
    async frame(ctx, q) {
      const frame = frameOfWords(q, "deploys", await subjectOfWords(ctx, q));
      // "to prod", "prod deploys": where a deploy went is its environment.
      const environment = environmentOf(q, ENV_NOUNS);
      if (environment) frame.environment = environment;
      return frame;
    },
  },
  details(q) {
    const counting = COUNT_Q.test(q.text);
    const version = q.names.find((n) => VERSION.test(n));
    const environment = environmentOf(q, ENV_NOUNS);
    return {
      versions: VERSION_Q.test(q.text) && !counting,
      counting,
      plural: PLURAL.test(q.text),
      rate: counting && /\bhow (?:often|frequently)\b/.test(q.text),
      asksFailure: FAILED.test(q.text) || ROLLED_BACK.test(q.text),
      status: ROLLED_BACK.test(q.text)
        ? "rolled_back"
        : FAILED.test(q.text)
          ? "failed"
          : SUCCEEDED.test(q.text)
            ? "success"
            : undefined,
      kinds: KIND_WORDS.filter(([re]) => re.test(q.text)).map(([, k]) => k),
      ...(version ? { version } : {}),
      ...(environment ? { environment } : {}),
      names: q.names.filter((n) => !VERSION.test(n) && !TICKET.test(n)),
    };
  },
  async compute(ctx, frame, window, ask) {
    const { kind, name } = frame.subject;
    const artifact = kind === "artifact" ? name : undefined;
    // A project named beside an artifact narrows it too ("deploys of X in PRJ-FINANCE").
    const project =
      kind === "project"
        ? name
        : artifact
          ? await findKnown(
              ctx.store,
              "project",
              ask.names.filter((n) => n !== artifact),
            )
          : undefined;
    const environment =
      frame.environment ?? ask.environment ?? (kind === "environment" ? canonicalEnv(name!)! : undefined);
    const scope: DeployScope = {
      ...(artifact ? { artifact } : {}),
      ...(project ? { project } : {}),
      ...(environment ? { environment } : {}),
      ...(ask.version ? { version: ask.version } : {}),
    };
    const period = { from: window.from, to: window.to };
    if (ask.versions && !ask.version) {
      if (!artifact) {
        const deploys = await latestPerArtifactAndEnvironment(ctx.store, {
          ...scope,
          ...period,
          status: "success",
        });
        return { view: "deployed", scope, deploys };
      }
      const [successes, latest] = await Promise.all([
        latestPerEnvironment(ctx.store, { ...scope, status: "success" }),
        latestPerEnvironment(ctx.store, scope),
      ]);
      return { view: "versions", artifact, scope, successes, latest };
    }
    if (artifact && !ask.counting && !ask.plural) {
      const deploys = await deploysNewestFirst(
        ctx.store,
        window.given ? { ...scope, ...period } : scope,
        200,
      );
      const before =
        deploys.length === 0
          ? await deploysNewestFirst(ctx.store, { artifact, ...(project ? { project } : {}) }, 3)
          : [];
      return {
        view: "latest",
        artifact,
        scope,
        inPeriod: window.given,
        asksFailure: ask.asksFailure,
        deploys,
        before,
      };
    }
    const filter: DeployFilter = { ...scope, ...period, kinds: ask.kinds };
    const status = ask.status;
    const counts = await deployCounts(ctx.store, filter);
    const [failures, recent] = await Promise.all([
      status === "success"
        ? []
        : unsuccessfulDeploys(ctx.store, filter, { rolledBackOnly: status === "rolled_back", limit: 50 }),
      status === "failed" || status === "rolled_back" || !counts.some((c) => inStatus(status, c.status))
        ? []
        : deploysNewestFirst(ctx.store, status === "success" ? { ...filter, status } : filter, 10),
    ]);
    // A rate over the part of the period that has passed: "this month" so far.
    const to = window.to;
    const days = Math.max((to.getTime() - window.from.getTime()) / DAY_MS, 1 / 24);
    return {
      view: "counts",
      scope,
      status,
      kinds: ask.kinds,
      rate: ask.rate,
      days,
      counts,
      failures,
      recent,
    };
  },
  render(d, _frame, ctx, window) {
    const tz = ctx.timezone;
    const now = ctx.now;
    const b = new AnswerBuilder();
    const version = (v: string | null) => esc(v ?? "(no version)");
    const envName = (e: string | null) => esc(e ?? "(no environment)");
    const byRank = (x: DeployRow, y: DeployRow) => (envRank(x.environment) < envRank(y.environment) ? -1 : 1);
    const span = during(window.label);

    if (d.view === "latest") {
      const { artifact, scope: f } = d;
      const inPeriod = d.inPeriod ? ` ${span}` : "";
      const scope = `${f.version ? ` ${esc(f.version)}` : ""}${f.environment ? ` to ${esc(f.environment)}` : ""}${inPeriod}`;
      if (d.deploys.length === 0) {
        b.headline(
          `No — ${code(artifact)}${scope ? ` has no deploys${scope}` : " has no deploys on record"}.`,
        );
        if (d.before.length)
          b.list(
            "Its latest deploys",
            d.before.map((x) => deployLine(x, tz, now, false)),
          );
        return b.from(`from the deploy history of ${artifact}`);
      }
      const rows = d.deploys;
      const latest = rows[0]!;
      const sameEnv = rows.filter((r) => r.environment === latest.environment);
      const lead = `the latest deploy of ${code(artifact)}${scope}, ${version(latest.version)}${
        latest.environment && !f.environment ? ` to ${esc(latest.environment)}` : ""
      } ${when(new Date(latest.at), tz, now)}`;
      // "Did it fail?" is answered Yes when it failed; "did it work?" Yes when it worked.
      if (latest.status === "success") {
        b.headline(`${d.asksFailure ? "No" : "Yes"} — ${lead}, succeeded.`);
        // Failed attempts right before this success, in the same environment: "it took two tries".
        const attempts: DeployRow[] = [];
        for (const r of sameEnv.slice(1)) {
          if (r.status === "success") break;
          attempts.push(r);
        }
        if (attempts.length) {
          b.list(
            `:warning: Before it, ${attempts.length} failed attempt${attempts.length > 1 ? "s" : ""}${
              latest.environment ? ` in ${esc(latest.environment)}` : ""
            }:`,
            attempts.map((x) => deployLine(x, tz, now, false)),
            5,
          );
        }
      } else {
        b.headline(`${d.asksFailure ? "Yes" : "No"} — ${lead}, ${statusWord(latest.status)}.`);
        const good = sameEnv.find((r) => r.status === "success");
        if (latest.environment)
          b.section(
            good
              ? `${esc(latest.environment)} is still on ${version(good.version)}, deployed ${when(new Date(good.at), tz, now)}.`
              : `There is no successful deploy of it to ${esc(latest.environment)}${d.inPeriod ? ` ${span}` : " on record"}.`,
          );
      }
      // Every environment's latest deploy (the newest row per environment among those read).
      const perEnv = new Map<string, DeployRow>();
      for (const r of rows) if (!perEnv.has(r.environment ?? "")) perEnv.set(r.environment ?? "", r);
      const envs = [...perEnv.values()].sort(byRank);
      if (envs.length > 1 || !f.environment) {
        b.fields(
          envs.map((x) => [
            envName(x.environment),
            `${statusIcon(x.status)} ${version(x.version)} ${statusWord(x.status)} ${formatDateTime(new Date(x.at), tz, now)}`,
          ]),
        );
        for (const x of envs.filter((e) => e !== latest && e.status !== "success"))
          b.section(
            `:x: In ${envName(x.environment)} its latest deploy failed: ${deployLine(x, tz, now, false)}`,
          );
      }
      if (rows.length > 1)
        b.list(
          "Recent deploys",
          rows.slice(0, 10).map((x) => deployLine(x, tz, now, false)),
          10,
        );
      return b.from(
        `from ${rows.length}${rows.length === 200 ? "+" : ""} deploy${rows.length === 1 ? "" : "s"} of ${artifact}${
          d.inPeriod ? ` ${span}` : " on record"
        }`,
      );
    }

    if (d.view === "deployed") {
      const byArtifact = new Map<string, DeployRow[]>();
      for (const r of d.deploys) byArtifact.set(r.artifact, [...(byArtifact.get(r.artifact) ?? []), r]);
      const env = d.scope.environment ? ` to ${esc(d.scope.environment)}` : "";
      if (byArtifact.size === 0) {
        b.headline(`Nothing was deployed successfully${env} ${span}.`);
        return b.from(`from the deploys ${span}`);
      }
      b.headline(
        `${byArtifact.size} artifact${byArtifact.size === 1 ? " was" : "s were"} deployed${env} ${span}; their latest versions:`,
      );
      b.list(
        "",
        [...byArtifact].map(
          ([a, ds]) =>
            `${code(a)} (${esc(ds[0]!.kind)}): ${ds
              .sort(byRank)
              .map((x) => `${esc(x.version ?? "?")} in ${envName(x.environment)}`)
              .join(", ")}`,
        ),
        20,
      );
      b.section("Name one for its whole history: _what version of fct_orders is in prod?_");
      return b.from(`from ${d.deploys.length} latest successful deploys ${span}`);
    }

    if (d.view === "versions") {
      const { artifact } = d;
      const ok = [...d.successes].sort(byRank);
      const where = d.scope.environment ? ` in ${esc(d.scope.environment)}` : "";
      if (ok.length === 0) {
        b.headline(`${code(artifact)} has no successful deploy${where} on record.`);
      } else if (ok.length === 1) {
        const x = ok[0]!;
        b.headline(
          `${code(artifact)} is at ${version(x.version)} in ${envName(x.environment)}, deployed ${when(new Date(x.at), tz, now)}.`,
        );
      } else {
        const versionsSeen = new Set(ok.map((x) => x.version));
        b.headline(
          versionsSeen.size === 1
            ? `${code(artifact)} is at ${version(ok[0]!.version)} in every environment it is deployed to (${ok
                .map((x) => esc(x.environment ?? "(none)"))
                .join(", ")}).`
            : `${code(artifact)}: ${ok.map((x) => `${esc(x.version ?? "?")} in ${envName(x.environment)}`).join(", ")}.`,
        );
      }
      if (ok.length)
        b.fields(
          ok.map((x) => [
            envName(x.environment),
            `${version(x.version)} since ${formatDateTime(new Date(x.at), tz, now)}${
              x.tickets.length ? ` (${x.tickets.map(esc).join(", ")})` : ""
            }`,
          ]),
        );
      // A newer attempt that did not succeed means the environment is behind what was intended.
      for (const l of [...d.latest].sort(byRank)) {
        if (l.status === "success") continue;
        const running = ok.find((x) => x.environment === l.environment);
        b.section(
          `:warning: A newer deploy to ${envName(l.environment)} ${statusWord(l.status)}: ${deployLine(l, tz, now, false)}${
            running ? ` — it is still on ${version(running.version)}` : ""
          }.`,
        );
      }
      return b.from(`from the latest deploy of ${artifact} to each environment`);
    }

    // Counts by status, kind and environment, and the list.
    const { counts, status, kinds, scope: f } = d;
    const total = counts.reduce((s, g) => s + g.n, 0);
    const matching = counts.filter((g) => inStatus(status, g.status)).reduce((s, g) => s + g.n, 0);
    const by = (key: "kind" | "environment") => {
      const m = new Map<string, { n: number; bad: number }>();
      for (const g of counts) {
        if (!inStatus(status, g.status)) continue;
        const k = key === "environment" ? (canonicalEnv(g.environment) ?? "(no environment)") : g[key];
        const e = m.get(k) ?? { n: 0, bad: 0 };
        e.n += g.n;
        if (g.status !== "success") e.bad += g.n;
        m.set(k, e);
      }
      // Environments in their usual order (prod first), kinds by how many.
      return [...m].sort((a, b2) =>
        key === "environment"
          ? envRank(a[0]) < envRank(b2[0])
            ? -1
            : 1
          : b2[1].n - a[1].n || (a[0] < b2[0] ? -1 : 1),
      );
    };
    const kind = kinds.length ? `${kinds.join("/")} ` : "";
    const noun = (n: number) => `${kind}deploy${n === 1 ? "" : "s"}`;
    let tail = "";
    if (f.artifact) tail += ` of ${code(f.artifact)}`;
    if (f.version) tail += ` ${esc(f.version)}`;
    if (f.project) tail += ` in ${code(f.project)}`;
    if (f.environment) tail += ` to ${esc(f.environment)}`;
    const perWeek = (n: number) => `about ${(n / (d.days / 7)).toFixed(1)} a week`;
    const statusCount = (s: string) => counts.filter((g) => g.status === s).reduce((a, g) => a + g.n, 0);

    if (status === "failed" || status === "rolled_back") {
      const word = status === "rolled_back" ? "rolled back" : "failed";
      if (matching === 0) {
        b.headline(
          `No ${noun(2)}${tail} ${word} ${span}${total ? ` — all ${total} ${total === 1 ? "was" : "were"} fine` : ""}.`,
        );
      } else {
        const rb = status === "failed" ? statusCount("rolled_back") : 0;
        b.headline(
          `${matching} ${noun(matching)}${tail} ${word}${rb ? " or were rolled back" : ""} ${span} — ${pct(matching, total)} of ${total}.`,
        );
      }
    } else if (status === "success") {
      b.headline(
        `${matching} successful ${noun(matching)}${tail} ${span}${total > matching ? ` (of ${total})` : ""}.`,
      );
    } else if (total === 0) {
      b.headline(`No ${noun(2)}${tail} ${span}.`);
    } else {
      const parts = ["success", "failed", "rolled_back"]
        .map((s) => [s, statusCount(s)] as const)
        .filter(([, n]) => n > 0)
        .map(([s, n]) => `${n} ${statusWord(s)}`);
      b.headline(
        `${total} ${noun(total)}${tail} ${span}${d.rate ? ` (${perWeek(total)})` : ""}: ${
          parts.length === 1 && statusCount("success") === total ? "all succeeded" : parts.join(", ")
        }.`,
      );
    }

    if (matching > 0) {
      const line = (rows: [string, { n: number; bad: number }][]) =>
        rows
          .map(
            ([k, v]) =>
              `${esc(k)} ${v.n}${status === undefined && v.bad ? ` (${v.bad} not successful)` : ""}`,
          )
          .join(" · ");
      const details: string[] = [];
      if (kinds.length !== 1) details.push(`*By kind:* ${line(by("kind"))}`);
      if (!f.environment) details.push(`*By environment:* ${line(by("environment"))}`);
      if (details.length) b.section(details.join("\n"));
    }
    if (status !== "success")
      b.list(
        status ? "" : "Not successful",
        d.failures.map(
          (x) =>
            `${deployLine(x, tz, now)} — ${
              x.fixAt
                ? `fixed by ${version(x.fixVersion)} ${when(new Date(x.fixAt), tz, now)}`
                : "no successful deploy since"
            }`,
        ),
      );
    if (status !== "failed" && status !== "rolled_back" && matching > 0)
      b.list(
        `Latest ${Math.min(d.recent.length, matching)} of ${matching}`,
        d.recent.map((x) => deployLine(x, tz, now)),
      );
    return b.from(`from ${total} deploy record${total === 1 ? "" : "s"} ${span}`);
  },
});

/** True when a deploy of status `s` is one of those asked about ("failed" counts rollbacks too). */
function inStatus(asked: DeployStatusAsked, s: string): boolean {
  return asked === "failed" ? s !== "success" : asked === undefined ? true : s === asked;
}
