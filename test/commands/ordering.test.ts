// The ordering family against the demo fleet. Which jobs of a group ended after the asked-about
// job started is computed here with plain SQL over the stored runs, never from the answer.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { sql } from "drizzle-orm";
import { ts } from "../../src/db/sql.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import { ask } from "../../src/questions/router.ts";
import type { Command } from "../../src/questions/types.ts";
import { demoContext, demoFleet, openDemoStore, answerBody } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

const fleet = demoFleet();
const GL = "finance_close.gl_summary";

describeEachStore("ordering question family", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openDemoStore(kind);
    commands = await loadCommands();
  });
  after(() => store.dispose());

  const askIt = async (question: string) => {
    const r = await ask(commands, demoContext(store), question);
    return { ...r, out: answerBody(r.answer) };
  };

  /** Start of the job's latest run in [from, to). */
  const startOf = async (job: string, from: Date, to: Date) =>
    (
      await store.query<{ s: string }>(
        sql`SELECT coalesce(r.started_at, r.run_at)::text AS s FROM runs r JOIN jobs j ON j.id = r.job_id
            WHERE j.name = ${job} AND r.run_at >= ${ts(from)} AND r.run_at < ${ts(to)}
            ORDER BY r.run_at DESC LIMIT 1`,
      )
    ).map((r) => new Date(r.s))[0];

  /** Each other job of the group in the environment, with the end of its latest run in [from, to). */
  const siblings = async (group: string, job: string, env: string, from: Date, to: Date) =>
    (
      await store.query<{ name: string; status: string | null; ended: string | null }>(
        sql`SELECT j.name,
              (SELECT r.status FROM runs r WHERE r.job_id = j.id AND r.run_at >= ${ts(from)} AND r.run_at < ${ts(to)}
               ORDER BY r.run_at DESC LIMIT 1) AS status,
              (SELECT r.ended_at::text FROM runs r WHERE r.job_id = j.id AND r.run_at >= ${ts(from)} AND r.run_at < ${ts(to)}
               ORDER BY r.run_at DESC LIMIT 1) AS ended
            FROM jobs j WHERE j.group_name = ${group} AND j.name <> ${job} AND j.environment = ${env}`,
      )
    ).map((r) => ({ name: r.name, status: r.status, ended: r.ended ? new Date(r.ended) : null }));

  it("says Yes when gl_summary's late start yesterday came after every prod job in finance_close", async () => {
    const late = fleet.stories.find((s) => s.kind === "late_start")!;
    assert.equal(late.subject, GL);
    const from = new Date("2026-11-21T00:00:00Z");
    const to = new Date("2026-11-22T00:00:00Z");
    const start = (await startOf(GL, from, to))!;
    const sibs = await siblings("finance_close", GL, "prod", from, to);
    assert.ok(sibs.length > 0 && sibs.every((s) => s.status === "success" && s.ended! <= start));
    const lastEnd = sibs.reduce((a, b) => (a.ended! > b.ended! ? a : b));

    const r = await askIt(
      "did finance_close.gl_summary run after all jobs in finance_close finished yesterday?",
    );
    assert.equal(r.family, "ordering");
    assert.ok(r.out.startsWith(`Yes — \`${GL}\` started yesterday 07:`), r.out);
    assert.match(r.out, new RegExp(`after all ${sibs.length} other prod jobs in \`finance_close\``));
    assert.match(r.out, new RegExp(`the last, \`${lastEnd.name.replace(".", "\\.")}\``));
    // The dev copy of the group is named but not compared.
    assert.match(r.out, /Not compared .*`finance_close\.fx_reval_dev` \(dev\)/);
  });

  it("by default compares the job's latest run with the same day and names who finished after it", async () => {
    const latest = (
      await store.query<{ s: string }>(
        sql`SELECT coalesce(r.started_at, r.run_at)::text AS s FROM runs r JOIN jobs j ON j.id = r.job_id
            WHERE j.name = ${GL} ORDER BY r.run_at DESC LIMIT 1`,
      )
    ).map((r) => new Date(r.s))[0]!;
    const dayFrom = new Date(Math.floor(latest.getTime() / 86_400_000) * 86_400_000);
    const dayTo = new Date(dayFrom.getTime() + 86_400_000);
    const sibs = await siblings("finance_close", GL, "prod", dayFrom, dayTo);
    const blockers = sibs.filter((s) => s.status !== "success" || !s.ended || s.ended > latest);

    const r = await askIt("did gl_summary run after all jobs in finance_close finished?");
    assert.equal(r.family, "ordering");
    if (blockers.length === 0) assert.ok(r.out.startsWith("Yes — "), r.out);
    else {
      assert.ok(
        r.out.startsWith(`No — \`${GL}\``) &&
          r.out.includes(`but ${blockers.length} of ${sibs.length} other prod jobs in \`finance_close\``),
        r.out,
      );
      for (const b of blockers) assert.ok(r.out.includes(`• \`${b.name}\` — `), b.name);
    }
  });

  it("answers for another group and phrasing: exec_kpis after orders_daily yesterday", async () => {
    const from = new Date("2026-11-21T00:00:00Z");
    const to = new Date("2026-11-22T00:00:00Z");
    const start = (await startOf("dashboards_refresh.exec_kpis", from, to))!;
    const sibs = await siblings("orders_daily", "-", "prod", from, to);
    const ok = sibs.every((s) => s.status === "success" && s.ended! <= start);
    for (const q of [
      "did exec_kpis start after every job in orders_daily completed yesterday?",
      "did exec_kpis wait for orders_daily to finish yesterday?",
    ]) {
      const r = await askIt(q);
      assert.equal(r.family, "ordering", q);
      assert.ok(r.out.startsWith(ok ? "Yes — " : "No — "), r.out);
    }
  });

  it("says No when the job has not run in the window", async () => {
    const today = new Date("2026-11-22T00:00:00Z");
    const ran = await startOf("dashboards_refresh.exec_kpis", today, new Date(today.getTime() + 86_400_000));
    assert.equal(ran, undefined);
    const r = await askIt("did exec_kpis start after every job in orders_daily completed today?");
    assert.equal(r.family, "ordering");
    assert.match(r.out, /^No — `dashboards_refresh\.exec_kpis` has not run today \(Sun 22 Nov\) yet/);
  });

  it("filters by environment and says so", async () => {
    const r = await askIt("did gl_summary run after all jobs in finance_close finished yesterday in dev?");
    assert.equal(r.family, "ordering");
    assert.match(r.out, /^No — `finance_close\.gl_summary` did not run yesterday \(Sat 21 Nov\) in dev/);
    const prod = await askIt(
      "did gl_summary run after all jobs in finance_close finished yesterday in prod?",
    );
    assert.ok(prod.out.startsWith("Yes — "), prod.out);
  });

  it("suggests close names for a mistyped group or job", async () => {
    const g = await askIt("did gl_summary run after all jobs in finance_clse finished?");
    assert.equal(g.family, "did-you-mean");
    assert.match(g.out, /No group `finance_clse`; did you mean `finance_close`/);
    const j = await askIt("did gl_sumary run after all jobs in finance_close finished?");
    assert.equal(j.family, "did-you-mean");
    assert.match(j.out, /did you mean `finance_close\.gl_summary`/);
  });
});
