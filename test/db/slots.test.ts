import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { sql } from "drizzle-orm";
import { extendSlots, upsertSchedules } from "../../src/db/schedules.ts";
import { expandSchedule, type Schedule, slotsBetween, validateSchedule } from "../../src/db/slots.ts";
import { ts } from "../../src/db/sql.ts";
import { Ingestor } from "../../src/ingest/apply.ts";
import type { RunEvent } from "../../src/ingest/events.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";

const MIN = 60_000;
const HOUR = 3_600_000;
const d = (iso: string) => new Date(iso);
const isos = (dates: Date[]) => dates.map((x) => x.toISOString());

describe("validateSchedule", () => {
  it("accepts five-field crons and @every durations", () => {
    for (const cron of ["0 2 * * *", "*/15 * * * 1-5", "@every 900s", "@every 2h", " @every 1d "]) {
      assert.doesNotThrow(() => validateSchedule(cron, "Europe/Berlin"), cron);
    }
  });

  it("refuses a cron with the wrong number of fields or an out-of-range value", () => {
    assert.throws(() => validateSchedule("0 2 * *", "UTC"), /has 4 fields; expected 5/);
    assert.throws(() => validateSchedule("0 0 2 * * *", "UTC"), /has 6 fields; expected 5/);
    assert.throws(() => validateSchedule("61 * * * *", "UTC"), /61/);
    assert.throws(() => validateSchedule("@every soon", "UTC"));
  });
});

describe("slotsBetween", () => {
  it("lists a daily UTC cron's slots with from inclusive and to exclusive", () => {
    assert.deepEqual(
      isos(slotsBetween("0 2 * * *", "UTC", d("2026-01-01T02:00:00Z"), d("2026-01-04T02:00:00Z"))),
      ["2026-01-01T02:00:00.000Z", "2026-01-02T02:00:00.000Z", "2026-01-03T02:00:00.000Z"],
    );
  });

  it("lists an hourly cron's slots from the first whole hour after from", () => {
    assert.deepEqual(
      isos(slotsBetween("0 * * * *", "UTC", d("2026-01-01T00:30:00Z"), d("2026-01-01T04:00:00Z"))),
      ["2026-01-01T01:00:00.000Z", "2026-01-01T02:00:00.000Z", "2026-01-01T03:00:00.000Z"],
    );
  });

  it("lists @every slots aligned to the epoch, not to from", () => {
    assert.deepEqual(
      isos(slotsBetween("@every 900s", "UTC", d("2026-01-01T00:10:00Z"), d("2026-01-01T01:00:00Z"))),
      ["2026-01-01T00:15:00.000Z", "2026-01-01T00:30:00.000Z", "2026-01-01T00:45:00.000Z"],
    );
    assert.deepEqual(
      isos(slotsBetween("@every 15m", "Europe/Berlin", d("2026-01-01T00:15:00Z"), d("2026-01-01T00:45:00Z"))),
      ["2026-01-01T00:15:00.000Z", "2026-01-01T00:30:00.000Z"],
    );
  });

  it("is empty when from equals to", () => {
    assert.deepEqual(
      slotsBetween("0 * * * *", "UTC", d("2026-01-01T01:00:00Z"), d("2026-01-01T01:00:00Z")),
      [],
    );
  });

  it("follows Europe/Berlin into summer time on 2026-03-29, when 02:30 does not exist", () => {
    const slots = slotsBetween(
      "30 2 * * *",
      "Europe/Berlin",
      d("2026-03-27T00:00:00Z"),
      d("2026-04-01T00:00:00Z"),
    );
    assert.deepEqual(isos(slots), [
      "2026-03-27T01:30:00.000Z", // 02:30 CET
      "2026-03-28T01:30:00.000Z", // 02:30 CET
      // 02:30 is skipped by the clock change; cron-parser runs it one hour later (03:30 CEST).
      "2026-03-29T01:30:00.000Z",
      "2026-03-30T00:30:00.000Z", // 02:30 CEST
      "2026-03-31T00:30:00.000Z", // 02:30 CEST
    ]);
    assertOneSlotPerLocalDay(slots, "Europe/Berlin");
  });

  it("follows Europe/Berlin back to winter time on 2026-10-25, when 02:30 happens twice, with one slot", () => {
    const slots = slotsBetween(
      "30 2 * * *",
      "Europe/Berlin",
      d("2026-10-23T00:00:00Z"),
      d("2026-10-28T00:00:00Z"),
    );
    assert.deepEqual(isos(slots), [
      "2026-10-23T00:30:00.000Z", // 02:30 CEST
      "2026-10-24T00:30:00.000Z", // 02:30 CEST
      "2026-10-25T00:30:00.000Z", // the first 02:30 (CEST); the second one (01:30Z, CET) is not a slot
      "2026-10-26T01:30:00.000Z", // 02:30 CET
      "2026-10-27T01:30:00.000Z", // 02:30 CET
    ]);
    assertOneSlotPerLocalDay(slots, "Europe/Berlin");
  });
});

function assertOneSlotPerLocalDay(slots: Date[], timeZone: string) {
  for (let i = 1; i < slots.length; i++) assert.ok(slots[i - 1]! < slots[i]!, "slots are in order");
  const days = slots.map((s) => new Intl.DateTimeFormat("en-CA", { timeZone }).format(s));
  assert.equal(new Set(days).size, days.length, `one slot per local day: ${days.join(", ")}`);
}

interface Row {
  slot_at: Date;
  opens_at: Date;
  closes_at: Date;
  due_at: Date;
}

const show = (r: Row) => ({
  slot: r.slot_at.toISOString(),
  opens: r.opens_at.toISOString(),
  closes: r.closes_at.toISOString(),
  due: r.due_at.toISOString(),
});

/** The invariants every expanded window keeps. */
function assertWindows(rows: Row[], s: Schedule) {
  assert.ok(rows.length > 0, `${s.cron} has rows`);
  rows.forEach((r, i) => {
    assert.ok(
      r.opens_at <= r.slot_at && r.slot_at < r.closes_at,
      `opens ≤ slot < closes: ${JSON.stringify(show(r))}`,
    );
    assert.equal(r.due_at.getTime(), r.slot_at.getTime() + s.graceSeconds * 1000, "due = slot + grace");
    const early = r.slot_at.getTime() - r.opens_at.getTime();
    assert.ok(early <= 2 * MIN, "opens at most 2 minutes early");
    const next = rows[i + 1];
    if (next) {
      assert.equal(r.closes_at.getTime(), next.opens_at.getTime(), "closes at the next slot's opening");
      assert.ok(
        early <= (next.slot_at.getTime() - r.slot_at.getTime()) / 4,
        "opens at most a quarter period early",
      );
    }
  });
}

describe("expandSchedule", () => {
  it("gives each hourly slot a window from 2 minutes before it to 2 minutes before the next, due after grace", () => {
    const s = { jobId: 7, cron: "0 * * * *", timezone: "UTC", graceSeconds: 1800 };
    const rows = expandSchedule(s, d("2026-01-01T00:00:00Z"), d("2026-01-01T03:00:00Z"));
    assert.ok(rows.every((r) => r.job_id === 7));
    assert.deepEqual(rows.map(show), [
      {
        slot: "2026-01-01T00:00:00.000Z",
        opens: "2025-12-31T23:58:00.000Z",
        closes: "2026-01-01T00:58:00.000Z",
        due: "2026-01-01T00:30:00.000Z",
      },
      {
        slot: "2026-01-01T01:00:00.000Z",
        opens: "2026-01-01T00:58:00.000Z",
        closes: "2026-01-01T01:58:00.000Z",
        due: "2026-01-01T01:30:00.000Z",
      },
      {
        slot: "2026-01-01T02:00:00.000Z",
        opens: "2026-01-01T01:58:00.000Z",
        closes: "2026-01-01T02:58:00.000Z",
        due: "2026-01-01T02:30:00.000Z",
      },
    ]);
  });

  it("opens a short period's window a quarter period early, not 2 minutes", () => {
    const s = { jobId: 1, cron: "@every 300s", timezone: "UTC", graceSeconds: 60 };
    const rows = expandSchedule(s, d("2026-01-01T00:00:00Z"), d("2026-01-01T00:10:00Z"));
    assert.deepEqual(rows.map(show), [
      {
        slot: "2026-01-01T00:00:00.000Z",
        opens: "2025-12-31T23:58:45.000Z",
        closes: "2026-01-01T00:03:45.000Z",
        due: "2026-01-01T00:01:00.000Z",
      },
      {
        slot: "2026-01-01T00:05:00.000Z",
        opens: "2026-01-01T00:03:45.000Z",
        closes: "2026-01-01T00:08:45.000Z",
        due: "2026-01-01T00:06:00.000Z",
      },
    ]);
  });

  it("keeps windows contiguous across the Berlin clock changes", () => {
    const s = { jobId: 1, cron: "30 2 * * *", timezone: "Europe/Berlin", graceSeconds: 3600 };
    const spring = expandSchedule(s, d("2026-03-28T00:00:00Z"), d("2026-03-31T00:00:00Z"));
    assert.deepEqual(spring.map(show), [
      {
        slot: "2026-03-28T01:30:00.000Z",
        opens: "2026-03-28T01:28:00.000Z",
        closes: "2026-03-29T01:28:00.000Z",
        due: "2026-03-28T02:30:00.000Z",
      },
      {
        slot: "2026-03-29T01:30:00.000Z",
        opens: "2026-03-29T01:28:00.000Z",
        closes: "2026-03-30T00:28:00.000Z",
        due: "2026-03-29T02:30:00.000Z",
      },
      {
        slot: "2026-03-30T00:30:00.000Z",
        opens: "2026-03-30T00:28:00.000Z",
        closes: "2026-03-31T00:28:00.000Z",
        due: "2026-03-30T01:30:00.000Z",
      },
    ]);
    assertWindows(spring, s);
    const autumn = expandSchedule(s, d("2026-10-24T00:00:00Z"), d("2026-10-27T00:00:00Z"));
    assert.deepEqual(
      autumn.map((r) => show(r).slot),
      ["2026-10-24T00:30:00.000Z", "2026-10-25T00:30:00.000Z", "2026-10-26T01:30:00.000Z"],
    );
    assert.equal(autumn[1]!.closes_at.toISOString(), "2026-10-26T01:28:00.000Z");
    assertWindows(autumn, s);
  });

  it("keeps the window invariants for daily, weekday, monthly and @every schedules", () => {
    const from = d("2026-01-01T00:00:00Z");
    const to = d("2026-03-01T00:00:00Z");
    for (const [cron, timezone] of [
      ["0 2 * * *", "UTC"],
      ["*/10 9-17 * * 1-5", "America/New_York"],
      ["0 6 1 * *", "Asia/Kolkata"],
      ["@every 90s", "UTC"],
      ["@every 1d", "UTC"],
    ] as const) {
      const s = { jobId: 1, cron, timezone, graceSeconds: 600 };
      const rows = expandSchedule(s, from, to);
      assert.deepEqual(
        isos(rows.map((r) => r.slot_at)),
        isos(slotsBetween(cron, timezone, from, to)),
        `${cron}: one row per slot in [from, to)`,
      );
      assertWindows(rows, s);
    }
  });

  it("expands a yearly cron, which validateSchedule accepts", () => {
    const s = { jobId: 1, cron: "0 0 1 1 *", timezone: "UTC", graceSeconds: 3600 };
    assert.doesNotThrow(() => validateSchedule(s.cron, s.timezone));
    const rows = expandSchedule(s, d("2026-01-01T00:00:00Z"), d("2026-01-02T00:00:00Z"));
    assert.deepEqual(rows.map(show), [
      {
        slot: "2026-01-01T00:00:00.000Z",
        opens: "2025-12-31T23:58:00.000Z",
        closes: "2026-12-31T23:58:00.000Z",
        due: "2026-01-01T01:00:00.000Z",
      },
    ]);
  });

  it("expands a leap-day cron, whose next slots are years apart", () => {
    const s = { jobId: 1, cron: "0 6 29 2 *", timezone: "UTC", graceSeconds: 3600 };
    const rows = expandSchedule(s, d("2026-01-01T00:00:00Z"), d("2029-01-01T00:00:00Z"));
    assert.deepEqual(rows.map(show), [
      {
        slot: "2028-02-29T06:00:00.000Z",
        opens: "2028-02-29T05:58:00.000Z",
        closes: "2032-02-29T05:58:00.000Z",
        due: "2028-02-29T07:00:00.000Z",
      },
    ]);
  });
});

// ---------------------------------------------------------------------------------------
// Store level: slots in expected_runs, matched to runs as they are ingested.

const NOW = d("2026-03-10T12:00:00Z");

function run(
  job: string,
  runId: string,
  t: { startedAt?: string; scheduledFor?: string; endedAt?: string },
  status: RunEvent["status"] = "success",
): RunEvent {
  const e: RunEvent = {
    type: "run",
    namespace: "default",
    job,
    runId,
    status,
    eventTime: d(t.endedAt ?? t.startedAt ?? t.scheduledFor!),
  };
  if (t.startedAt) e.startedAt = d(t.startedAt);
  if (t.endedAt) e.endedAt = d(t.endedAt);
  if (t.scheduledFor) e.scheduledFor = d(t.scheduledFor);
  return e;
}

interface SlotView {
  slot: string;
  run: string | null;
  due: string;
}

describeEachStore("expected slots", (kind) => {
  let store: TestStore;
  let ingestor: Ingestor;
  before(async () => {
    store = await openTestStore(kind);
  });
  after(async () => {
    await store.dispose();
  });
  beforeEach(async () => {
    await store.query(
      sql`TRUNCATE runs, jobs, run_daily, rollup_dirty, expected_runs, job_schedules CASCADE`,
    );
    ingestor = new Ingestor(store);
  });

  const schedule = (job: string, cron: string, graceSeconds = 1800, now = NOW, timezone = "UTC") =>
    upsertSchedules(store, "config", [{ namespace: "default", job, cron, timezone, graceSeconds }], now);

  async function slotsOf(job: string, where = sql`true`): Promise<SlotView[]> {
    const rows = await store.query<{ slot: string; run: string | null; due: string }>(
      sql`SELECT to_char(e.slot_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS slot,
            to_char(e.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS due, r.external_id AS run
          FROM expected_runs e JOIN jobs j ON j.id = e.job_id LEFT JOIN runs r ON r.id = e.run_id
          WHERE j.name = ${job} AND ${where} ORDER BY e.slot_at`,
    );
    return rows;
  }
  const slot = async (job: string, at: string) => {
    const rows = await slotsOf(job, sql`e.slot_at = ${ts(d(at))}`);
    assert.equal(rows.length, 1, `one slot of ${job} at ${at}`);
    return rows[0]!;
  };
  const matched = async (job: string) =>
    (await slotsOf(job, sql`e.run_id IS NOT NULL`)).map((s) => [s.slot, s.run]);

  it("expands a new schedule 48 hours back and ahead of now", async () => {
    assert.equal(await schedule("hourly", "0 * * * *"), 1);
    const slots = await slotsOf("hourly");
    assert.equal(slots.length, 96);
    assert.equal(slots[0]!.slot, "2026-03-08T12:00:00Z");
    assert.equal(slots.at(-1)!.slot, "2026-03-12T11:00:00Z");
    assert.ok(slots.every((s) => s.run === null));
  });

  it("matches a run to its slot by nominal time, even when it started in the next slot's window", async () => {
    await schedule("orders", "0 * * * *");
    await ingestor.apply([
      run("orders", "r1", {
        scheduledFor: "2026-03-10T05:00:00Z",
        startedAt: "2026-03-10T06:05:00Z",
        endedAt: "2026-03-10T06:20:00Z",
      }),
    ]);
    assert.deepEqual(await matched("orders"), [["2026-03-10T05:00:00Z", "r1"]]);
  });

  it("matches a run without scheduled_for by its start, 10 minutes after the slot", async () => {
    await schedule("orders", "0 * * * *");
    await ingestor.apply([run("orders", "r1", { startedAt: "2026-03-10T06:10:00Z" }, "running")]);
    assert.deepEqual(await matched("orders"), [["2026-03-10T06:00:00Z", "r1"]]);
    // Its finish keeps the match and takes no other slot.
    await ingestor.apply([run("orders", "r1", { endedAt: "2026-03-10T07:30:00Z" }, "success")]);
    assert.deepEqual(await matched("orders"), [["2026-03-10T06:00:00Z", "r1"]]);
  });

  it("matches a run starting 30 s before a slot to that slot, and one 3 minutes before to the previous slot", async () => {
    await schedule("early", "0 * * * *");
    await ingestor.apply([
      run("early", "fast-clock", { startedAt: "2026-03-10T06:59:30Z" }),
      run("early", "too-early", { startedAt: "2026-03-10T08:57:00Z" }),
    ]);
    assert.deepEqual(await matched("early"), [
      ["2026-03-10T07:00:00Z", "fast-clock"],
      ["2026-03-10T08:00:00Z", "too-early"],
    ]);
  });

  it("does not give a retry (a second run in the same window) another slot", async () => {
    await schedule("flaky", "0 * * * *");
    await ingestor.apply([
      run("flaky", "try-1", { startedAt: "2026-03-10T08:05:00Z", endedAt: "2026-03-10T08:06:00Z" }, "failed"),
    ]);
    await ingestor.apply([
      run("flaky", "try-2", { startedAt: "2026-03-10T08:20:00Z", endedAt: "2026-03-10T08:30:00Z" }),
    ]);
    assert.deepEqual(await matched("flaky"), [["2026-03-10T08:00:00Z", "try-1"]]);
    assert.equal((await slot("flaky", "2026-03-10T09:00:00Z")).run, null);
  });

  it("gives a slot the earliest of several runs of its window arriving in one batch", async () => {
    await schedule("flaky", "0 * * * *");
    await ingestor.apply([
      run("flaky", "try-2", { startedAt: "2026-03-10T08:20:00Z" }),
      run("flaky", "try-1", { startedAt: "2026-03-10T08:05:00Z" }, "failed"),
      run("flaky", "next", { startedAt: "2026-03-10T09:01:00Z" }),
    ]);
    assert.deepEqual(await matched("flaky"), [
      ["2026-03-10T08:00:00Z", "try-1"],
      ["2026-03-10T09:00:00Z", "next"],
    ]);
  });

  it("leaves a slot without a run unmatched, and past due once its grace has passed", async () => {
    await schedule("silent", "0 * * * *", 1800);
    assert.deepEqual(await slot("silent", "2026-03-10T11:00:00Z"), {
      slot: "2026-03-10T11:00:00Z",
      due: "2026-03-10T11:30:00Z",
      run: null,
    });
    const pastDue = await slotsOf("silent", sql`e.run_id IS NULL AND e.due_at <= ${ts(NOW)}`);
    assert.equal(pastDue.length, 48);
    assert.equal(pastDue.at(-1)!.slot, "2026-03-10T11:00:00Z");
    // The 12:00 slot is due at 12:30: not missed yet at 12:00 or 12:29, missed at 12:30.
    const dueBy = async (t: Date) =>
      (await slotsOf("silent", sql`e.run_id IS NULL AND e.due_at <= ${ts(t)}`)).length;
    assert.equal(await dueBy(new Date(NOW.getTime() + 29 * MIN)), 48);
    assert.equal(await dueBy(new Date(NOW.getTime() + 30 * MIN)), 49);
  });

  it("matches runs ingested before their schedule existed when the slots are expanded", async () => {
    await ingestor.apply([
      run("late_config", "mon", { startedAt: "2026-03-09T02:03:00Z", endedAt: "2026-03-09T02:10:00Z" }),
      run("late_config", "tue", { scheduledFor: "2026-03-10T02:00:00Z", startedAt: "2026-03-10T02:40:00Z" }),
      run("late_config", "tue-retry", { startedAt: "2026-03-10T02:20:00Z" }),
      run("late_config", "early", { startedAt: "2026-03-08T01:58:30Z" }),
    ]);
    assert.equal(await schedule("late_config", "0 2 * * *", 3600), 1);
    assert.deepEqual(await slotsOf("late_config"), [
      { slot: "2026-03-09T02:00:00Z", due: "2026-03-09T03:00:00Z", run: "mon" },
      // By nominal time: "tue" (scheduled 02:00) comes before the retry that started at 02:20.
      { slot: "2026-03-10T02:00:00Z", due: "2026-03-10T03:00:00Z", run: "tue" },
      { slot: "2026-03-11T02:00:00Z", due: "2026-03-11T03:00:00Z", run: null },
      { slot: "2026-03-12T02:00:00Z", due: "2026-03-12T03:00:00Z", run: null },
    ]);
  });

  it("clears future unmatched slots when a schedule changes and re-expands the new one", async () => {
    await schedule("changing", "0 * * * *", 1800);
    await ingestor.apply([run("changing", "done", { startedAt: "2026-03-10T10:01:00Z" })]);
    const later = new Date(NOW.getTime() + 20 * MIN);
    assert.equal(await schedule("changing", "30 */2 * * *", 600, later), 1);
    const future = await slotsOf("changing", sql`e.slot_at > ${ts(later)}`);
    assert.equal(future.length, 24);
    assert.equal(future[0]!.slot, "2026-03-10T12:30:00Z");
    assert.equal(future.at(-1)!.slot, "2026-03-12T10:30:00Z");
    assert.ok(
      future.every((s) => /T\d[02468]:30:00Z$/.test(s.slot) && s.run === null),
      JSON.stringify(future),
    );
    assert.equal(future[0]!.due, "2026-03-10T12:40:00Z");
    // History stays: past slots of the old schedule and their matches are kept.
    assert.equal((await slot("changing", "2026-03-10T10:00:00Z")).run, "done");
    assert.equal((await slot("changing", "2026-03-10T12:00:00Z")).due, "2026-03-10T12:30:00Z");
    // The same schedule again is no change: nothing is cleared or re-expanded.
    const before = await slotsOf("changing");
    assert.equal(await schedule("changing", "30 */2 * * *", 600, later), 0);
    assert.deepEqual(await slotsOf("changing"), before);
  });

  it("does not invent past slots of a changed schedule that was not in force then", async () => {
    await schedule("moved", "0 2 * * *", 3600);
    await ingestor.apply([
      run("moved", "yesterday", { startedAt: "2026-03-09T02:05:00Z" }),
      run("moved", "today", { startedAt: "2026-03-10T02:05:00Z" }),
    ]);
    await schedule("moved", "0 3 * * *", 3600);
    const past = await slotsOf("moved", sql`e.slot_at <= ${ts(NOW)}`);
    assert.deepEqual(past, [
      { slot: "2026-03-09T02:00:00Z", due: "2026-03-09T03:00:00Z", run: "yesterday" },
      { slot: "2026-03-10T02:00:00Z", due: "2026-03-10T03:00:00Z", run: "today" },
    ]);
    const twice = await store.query<{ run_id: string }>(
      sql`SELECT run_id::text FROM expected_runs WHERE run_id IS NOT NULL GROUP BY run_id HAVING count(*) > 1`,
    );
    assert.deepEqual(twice, [], "no run fulfils two slots");
  });

  it("extends slots idempotently: a second pass at the same time inserts nothing", async () => {
    await schedule("hourly", "0 * * * *");
    await schedule("daily", "0 2 * * *", 3600, NOW, "Europe/Berlin");
    assert.equal(await extendSlots(store, NOW), 0, "upsertSchedules already expanded to the horizon");
    const later = new Date(NOW.getTime() + 6 * HOUR);
    assert.equal(await extendSlots(store, later), 6);
    assert.equal(await extendSlots(store, later), 0);
    const hourly = await slotsOf("hourly");
    assert.equal(hourly.at(-1)!.slot, "2026-03-12T17:00:00Z");
    assert.equal(new Set(hourly.map((s) => s.slot)).size, hourly.length);
  });

  it("matches a run already stored when extendSlots adds its slot", async () => {
    await schedule("hourly", "0 * * * *");
    // A run whose nominal time is beyond today's horizon (a producer announcing ahead).
    await ingestor.apply([run("hourly", "ahead", { scheduledFor: "2026-03-12T14:00:00Z" }, "running")]);
    assert.deepEqual(await matched("hourly"), []);
    await extendSlots(store, new Date(NOW.getTime() + 6 * HOUR));
    assert.deepEqual(await matched("hourly"), [["2026-03-12T14:00:00Z", "ahead"]]);
  });
});
