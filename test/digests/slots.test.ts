import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nextSlot, previousSlot, slotsBetween, zonedInstant } from "../../src/digests/slots.ts";

const iso = (d: Date) => d.toISOString();
const berlin = { cadence: "daily" as const, localTime: "09:00", timezone: "Europe/Berlin" };

describe("digest slots", () => {
  it("puts a daily 09:00 Berlin digest at 08:00Z in winter and 07:00Z in summer, across the March change", () => {
    const slots = slotsBetween(berlin, new Date("2026-03-27T00:00:00Z"), new Date("2026-03-31T00:00:00Z"));
    assert.deepEqual(
      slots.map((s) => iso(s.at)),
      [
        "2026-03-27T08:00:00.000Z",
        "2026-03-28T08:00:00.000Z",
        "2026-03-29T07:00:00.000Z",
        "2026-03-30T07:00:00.000Z",
      ],
    );
    assert.deepEqual(
      slots.map((s) => s.reportedDate),
      ["2026-03-26", "2026-03-27", "2026-03-28", "2026-03-29"],
    );
    assert.ok(slots.every((s) => s.days === 1));
  });

  it("sends a 02:30 digest once on the spring-forward day (moved past the gap, to 03:30 local)", () => {
    const s = { ...berlin, localTime: "02:30" };
    const slots = slotsBetween(s, new Date("2026-03-28T12:00:00Z"), new Date("2026-03-30T12:00:00Z"));
    assert.deepEqual(
      slots.map((x) => [x.localDate, iso(x.at)]),
      [
        ["2026-03-29", "2026-03-29T01:30:00.000Z"], // 03:30 CEST: 02:30 does not exist that night
        ["2026-03-30", "2026-03-30T00:30:00.000Z"], // 02:30 CEST
      ],
    );
  });

  it("sends a 02:30 digest once on the fall-back day (the first of the two 02:30s)", () => {
    const s = { ...berlin, localTime: "02:30" };
    const slots = slotsBetween(s, new Date("2026-10-24T12:00:00Z"), new Date("2026-10-26T12:00:00Z"));
    assert.deepEqual(
      slots.map((x) => [x.localDate, iso(x.at)]),
      [
        ["2026-10-25", "2026-10-25T00:30:00.000Z"], // 02:30 CEST, not again at 02:30 CET (01:30Z)
        ["2026-10-26", "2026-10-26T01:30:00.000Z"],
      ],
    );
    assert.equal(iso(zonedInstant("2026-10-25", "02:30", "Europe/Berlin")), "2026-10-25T00:30:00.000Z");
  });

  it("keeps the reported day a whole local day across DST in New York", () => {
    // 2026-11-01 is the fall-back day in the US: the digest at 00:30 local reports Oct 31.
    const s = { cadence: "daily" as const, localTime: "00:30", timezone: "America/New_York" };
    const slots = slotsBetween(s, new Date("2026-10-31T12:00:00Z"), new Date("2026-11-02T12:00:00Z"));
    assert.deepEqual(
      slots.map((x) => [x.reportedDate, iso(x.at)]),
      [
        ["2026-10-31", "2026-11-01T04:30:00.000Z"], // EDT
        ["2026-11-01", "2026-11-02T05:30:00.000Z"], // EST
      ],
    );
  });

  it("runs a weekly digest on its weekday only and reports the 7 days before it", () => {
    const weekly = { cadence: "weekly" as const, weekday: 1, localTime: "08:30", timezone: "Europe/Berlin" };
    const slots = slotsBetween(weekly, new Date("2026-11-01T00:00:00Z"), new Date("2026-11-30T00:00:00Z"));
    assert.deepEqual(
      slots.map((x) => x.localDate),
      ["2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23"],
    );
    assert.equal(iso(slots[0]!.at), "2026-11-02T07:30:00.000Z");
    assert.equal(slots[0]!.reportedDate, "2026-11-01");
    assert.equal(slots[0]!.days, 7);
  });

  it("counts a slot exactly at the end of the window and not one exactly at its start", () => {
    const at = new Date("2026-11-22T08:00:00Z");
    assert.equal(slotsBetween(berlin, new Date(at.getTime() - 60_000), at).length, 1);
    assert.equal(slotsBetween(berlin, at, new Date(at.getTime() + 60_000)).length, 0);
  });

  it("finds the next and the previous slot", () => {
    const at = new Date("2026-11-22T08:00:00Z");
    assert.equal(iso(nextSlot(berlin, at).at), "2026-11-23T08:00:00.000Z");
    assert.equal(iso(nextSlot(berlin, new Date(at.getTime() - 1)).at), iso(at));
    assert.equal(iso(previousSlot(berlin, at)!.at), iso(at));
    const tokyo = { cadence: "daily" as const, localTime: "09:00", timezone: "Asia/Tokyo" };
    assert.equal(iso(nextSlot(tokyo, at).at), "2026-11-23T00:00:00.000Z");
  });
});
