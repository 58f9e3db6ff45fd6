// Root cause follows lineage: "what failed first upstream of X" walks the jobs X reads from
// (and theirs) when runs reported inputs and outputs, instead of X's group; a job with no
// known lineage still falls back to its group.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { Ingestor } from "../../src/ingest/apply.ts";
import { DEFAULT_NAMESPACE, type DatasetName, type RunEvent } from "../../src/ingest/events.ts";
import { ask } from "../../src/questions/router.ts";
import { loadCommands } from "../../src/questions/registry.ts";
import type { Command } from "../../src/questions/types.ts";
import { answerBody } from "../helpers/demo.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";

const now = new Date("2026-03-10T12:00:00Z");
const ds = (name: string): DatasetName => ({ namespace: DEFAULT_NAMESPACE, name });

function run(
  job: string,
  group: string,
  hour: number,
  status: "success" | "failed",
  io: { inputs?: DatasetName[]; outputs?: DatasetName[] } = {},
): RunEvent {
  const startedAt = new Date(`2026-03-10T0${hour}:00:00Z`);
  const endedAt = new Date(startedAt.getTime() + 20 * 60_000);
  return {
    type: "run",
    namespace: "etl",
    job,
    group,
    environment: "prod",
    runId: `${job}-${hour}`,
    status,
    startedAt,
    endedAt,
    ...(status === "failed" ? { error: `${job} broke` } : {}),
    ...io,
    eventTime: endedAt,
  };
}

describeEachStore("root cause follows lineage", (kind) => {
  let store: TestStore;
  let commands: Command[];
  before(async () => {
    store = await openTestStore(kind);
    commands = await loadCommands();
    await new Ingestor(store).apply(
      [
        // ingest.load_x (another group) writes raw.x and fails at 01:00.
        run("ingest.load_x", "ingest", 1, "failed", { outputs: [ds("raw.x")] }),
        // mart.build_y reads raw.x, writes mart.y.
        run("mart.build_y", "mart", 2, "success", { inputs: [ds("raw.x")], outputs: [ds("mart.y")] }),
        // mart.other fails earlier in the same group as report_z, but report_z reads nothing of it.
        run("mart.other", "mart", 0, "failed", { outputs: [ds("mart.unrelated")] }),
        // mart.report_z reads mart.y and fails at 03:00.
        run("mart.report_z", "mart", 3, "failed", { inputs: [ds("mart.y")] }),
        // solo.alone has no lineage; its group is solo.
        run("solo.before", "solo", 1, "failed"),
        run("solo.alone", "solo", 2, "failed"),
      ],
      { rollup: "wait" },
    );
  });
  after(() => store.dispose());
  const q = async (text: string) => {
    const r = await ask(commands, { store, now, timezone: "UTC" }, text);
    return { family: r.family, out: answerBody(r.answer), head: answerBody(r.answer).split("\n")[0]! };
  };

  it("blames the job it reads from, not an earlier failure of its group", async () => {
    const r = await q("what failed first upstream of mart.report_z today");
    assert.equal(r.family, "root-cause");
    assert.match(r.head, /^`ingest\.load_x` went wrong first upstream of `mart\.report_z`/);
    assert.doesNotMatch(r.out, /mart\.other/);
    assert.match(r.out, /lineage/);
  });

  it("falls back to the group for a job with no known lineage", async () => {
    const r = await q("what failed first upstream of solo.alone today");
    assert.match(r.head, /^`solo\.before` went wrong first upstream of `solo\.alone`/);
  });
});
