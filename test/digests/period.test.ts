import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addDaysYmd, daysOf, digestPeriods, periodLabel } from "../../src/digests/period.ts";

const H = 3_600_000;

describe("digest periods", () => {
  it("bounds a UTC day by its midnights and compares it with the day and the 7 days before", () => {
    const p = digestPeriods({ date: "2026-11-21", days: 1, timezone: "UTC" });
    assert.equal(p.period.from.toISOString(), "2026-11-21T00:00:00.000Z");
    assert.equal(p.period.to.toISOString(), "2026-11-22T00:00:00.000Z");
    assert.equal(p.previous.from.toISOString(), "2026-11-20T00:00:00.000Z");
    assert.equal(p.previous.to.toISOString(), "2026-11-21T00:00:00.000Z");
    assert.deepEqual(
      p.baseline.map((b) => b.lastDay),
      ["2026-11-20", "2026-11-19", "2026-11-18", "2026-11-17", "2026-11-16", "2026-11-15", "2026-11-14"],
    );
    assert.equal(p.span.firstDay, "2026-11-14");
    assert.equal(p.span.to.toISOString(), "2026-11-22T00:00:00.000Z");
  });

  it("bounds a Berlin day by Berlin midnights (UTC+1 in November)", () => {
    const p = digestPeriods({ date: "2026-11-21", days: 1, timezone: "Europe/Berlin" });
    assert.equal(p.period.from.toISOString(), "2026-11-20T23:00:00.000Z");
    assert.equal(p.period.to.toISOString(), "2026-11-21T23:00:00.000Z");
  });

  it("makes the Berlin day the clocks go back 25 hours long, and the days around it 24", () => {
    const p = digestPeriods({ date: "2026-10-25", days: 1, timezone: "Europe/Berlin" });
    assert.equal(p.period.from.toISOString(), "2026-10-24T22:00:00.000Z"); // CEST, UTC+2
    assert.equal(p.period.to.toISOString(), "2026-10-25T23:00:00.000Z"); // CET, UTC+1
    assert.equal(p.period.to.getTime() - p.period.from.getTime(), 25 * H);
    assert.equal(p.previous.to.getTime() - p.previous.from.getTime(), 24 * H);
    assert.equal(p.previous.to.getTime(), p.period.from.getTime());
    const next = digestPeriods({ date: "2026-10-26", days: 1, timezone: "Europe/Berlin" });
    assert.equal(next.period.to.getTime() - next.period.from.getTime(), 24 * H);
    assert.equal(next.previous.to.getTime() - next.previous.from.getTime(), 25 * H);
  });

  it("makes the New York day the clocks go forward 23 hours long", () => {
    const p = digestPeriods({ date: "2026-03-08", days: 1, timezone: "America/New_York" });
    assert.equal(p.period.from.toISOString(), "2026-03-08T05:00:00.000Z"); // EST, UTC−5
    assert.equal(p.period.to.toISOString(), "2026-03-09T04:00:00.000Z"); // EDT, UTC−4
    assert.equal(p.period.to.getTime() - p.period.from.getTime(), 23 * H);
  });

  it("covers a DST week in 7 local days of 167 hours, each day starting at local midnight", () => {
    const p = digestPeriods({ date: "2026-03-14", days: 7, timezone: "America/New_York" });
    assert.equal(p.period.firstDay, "2026-03-08");
    assert.equal(p.period.to.getTime() - p.period.from.getTime(), (7 * 24 - 1) * H);
    const days = daysOf(p.period, "America/New_York");
    assert.equal(days.length, 7);
    assert.deepEqual(
      days.map((d) => (d.to.getTime() - d.from.getTime()) / H),
      [23, 24, 24, 24, 24, 24, 24],
    );
    // Weekly digests compare with the week before and the 4 weeks before.
    assert.equal(p.previous.firstDay, "2026-03-01");
    assert.equal(p.previous.lastDay, "2026-03-07");
    assert.equal(p.baseline.length, 4);
    assert.equal(p.baseline[3]!.firstDay, "2026-02-08");
    assert.equal(p.span.firstDay, "2026-02-08");
  });

  it("steps calendar days across month and year ends", () => {
    assert.equal(addDaysYmd("2026-12-31", 1), "2027-01-01");
    assert.equal(addDaysYmd("2024-03-01", -1), "2024-02-29");
  });

  it("rejects a bad date, zone or length with a message naming the field", () => {
    assert.throws(() => digestPeriods({ date: "2026-02-30", days: 1, timezone: "UTC" }), /date must be/);
    assert.throws(() => digestPeriods({ date: "21/11/2026", days: 1, timezone: "UTC" }), /date must be/);
    assert.throws(
      () => digestPeriods({ date: "2026-11-21", days: 1, timezone: "Mars/Olympus" }),
      /timezone must be/,
    );
    assert.throws(
      () => digestPeriods({ date: "2026-11-21", days: 3 as 1, timezone: "UTC" }),
      /days must be 1/,
    );
  });

  it("labels a day and a week for titles", () => {
    const d = digestPeriods({ date: "2026-11-21", days: 1, timezone: "UTC" });
    assert.equal(periodLabel(d.period), "Sat 21 Nov 2026");
    const w = digestPeriods({ date: "2026-11-21", days: 7, timezone: "UTC" });
    assert.equal(periodLabel(w.period), "Sun 15 – Sat 21 Nov 2026");
    const x = digestPeriods({ date: "2026-12-03", days: 7, timezone: "UTC" });
    assert.equal(periodLabel(x.period), "Fri 27 Nov – Thu 3 Dec 2026");
  });
});
