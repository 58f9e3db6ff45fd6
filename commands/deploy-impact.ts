// Did failures start after a deploy? For a job, a pipeline (group) or a deployed artifact:
// its latest successful deploys in the period and, around each, the failures of its jobs in
// equal spans before and after (up to 7 days each, never past now). A deploy after which
// failures began, or at least doubled, is named; a job without deploys says so.
import { type DeployAt, deployScope, deploysOf, failuresOf } from "../src/db/queries/deploy-impact.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { defineMeasure } from "../src/questions/measure.ts";
import { formatDateTime } from "../src/time/index.ts";

export interface DeployImpact {
  deploy: DeployAt;
  /** The length of each span compared (ms). */
  spanMs: number;
  before: { runs: number; failures: number };
  after: { runs: number; failures: number };
  /** started: none before, some after; rose: at least twice the share of runs failing; else none. */
  verdict: "started" | "rose" | "none";
}

export interface DeployImpactData {
  jobs: string[];
  artifacts: string[];
  /** Latest deploy first. */
  deploys: DeployImpact[];
}

const SPAN_MS = 7 * 86_400_000;

function verdictOf(before: { runs: number; failures: number }, after: { runs: number; failures: number }) {
  if (!after.failures) return "none" as const;
  if (!before.failures) return "started" as const;
  const rate = (x: { runs: number; failures: number }) => x.failures / Math.max(x.runs, 1);
  return rate(after) >= 2 * rate(before) ? ("rose" as const) : ("none" as const);
}

export default defineMeasure<DeployImpactData>({
  id: "deploy-impact",
  title: "Failures after deploys",
  summary: "whether a job's or pipeline's failures started (or doubled) after one of its deploys",
  examples: [
    "did failures of attribution_model start after a deploy?",
    "did the last deploy break marketing_attribution?",
    "failures since the finance_close deploy",
  ],
  measure: "deploy_impact",
  subjects: ["job", "group", "artifact"],
  defaultDays: 30,
  async compute(ctx, frame, window) {
    const subject = frame.subject as { kind: "job" | "group" | "artifact"; name: string };
    const { jobs, artifacts, environments } = await deployScope(ctx.store, subject);
    // Deploys to where the jobs run: their one environment, unless the question names one.
    const env = frame.environment ?? (environments.length === 1 ? environments[0] : undefined);
    const deploys = await deploysOf(ctx.store, artifacts, window.from, window.to, env);
    const out: DeployImpact[] = [];
    for (const deploy of deploys) {
      const t = deploy.at.getTime();
      const spanMs = Math.max(0, Math.min(SPAN_MS, ctx.now.getTime() - t));
      const [before, after] = await Promise.all([
        failuresOf(ctx.store, jobs, new Date(t - spanMs), deploy.at),
        failuresOf(ctx.store, jobs, deploy.at, new Date(t + spanMs)),
      ]);
      out.push({ deploy, spanMs, before, after, verdict: verdictOf(before, after) });
    }
    return { jobs, artifacts, deploys: out };
  },
  render(d, frame, ctx, window) {
    const b = new AnswerBuilder();
    const name = code(frame.subject.name!);
    const hit = d.deploys.find((x) => x.verdict !== "none");
    const lead = frame.polarity ? `${(frame.polarity === "absent" ? !hit : !!hit) ? "Yes" : "No"} — ` : "";
    const days = (ms: number) =>
      `${Math.max(1, Math.round(ms / 86_400_000))} day${Math.round(ms / 86_400_000) === 1 ? "" : "s"}`;
    const at = (x: DeployImpact) =>
      `${code(x.deploy.artifact)}${x.deploy.version ? ` ${esc(x.deploy.version)}` : ""}${x.deploy.environment ? ` to ${esc(x.deploy.environment)}` : ""} ${formatDateTime(x.deploy.at, ctx.timezone, ctx.now)}`;
    if (!d.jobs.length) b.headline(`Houston knows no jobs of ${name}.`);
    else if (!d.deploys.length)
      b.headline(
        `${lead}No deploy of ${name} (artifacts ${d.artifacts.map(code).join(", ")}) ${esc(window.label)}, so none to blame.`,
      );
    else if (hit)
      b.headline(
        `${lead}Failures ${hit.verdict === "started" ? "started" : "at least doubled"} after ${at(hit)}: ${hit.before.failures} of ${hit.before.runs} runs failed in the ${days(hit.spanMs)} before, ${hit.after.failures} of ${hit.after.runs} in the ${days(hit.spanMs)} after.`,
      );
    else b.headline(`${lead}No deploy of ${name} ${esc(window.label)} was followed by more failures.`);
    b.list(
      "Each deploy, failures before → after",
      d.deploys.map(
        (x) =>
          `${at(x)}: ${x.before.failures}/${x.before.runs} → ${x.after.failures}/${x.after.runs}${x.verdict === "started" ? " ⚠️ started" : x.verdict === "rose" ? " ⚠️ rose" : ""}`,
      ),
    );
    return b.from(
      `from deploys of ${d.artifacts.map(code).join(", ")} and the runs of ${d.jobs.length} job${d.jobs.length === 1 ? "" : "s"}`,
    );
  },
});
