// Time expressions → windows in the asker's zone, at a fixed instant (a Sunday, 09:00 UTC).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseTimeWindow } from "../../src/time/index.ts";

const NOW = new Date("2026-11-22T09:00:00Z");

/** [text, from, to, phrase] in UTC and in Berlin (UTC+1 in November). */
const CASES: [string, string, string, string, string?][] = [
  [
    "did user_embeddings run last tuesday",
    "UTC",
    "2026-11-17T00:00:00Z",
    "2026-11-18T00:00:00Z",
    "last tuesday",
  ],
  ["did it run on tuesday", "UTC", "2026-11-17T00:00:00Z", "2026-11-18T00:00:00Z", "on tuesday"],
  ["did it run on sunday", "UTC", "2026-11-22T00:00:00Z", "2026-11-23T00:00:00Z", "on sunday"],
  ["yesterday", "UTC", "2026-11-21T00:00:00Z", "2026-11-22T00:00:00Z"],
  ["yesterday", "Europe/Berlin", "2026-11-20T23:00:00Z", "2026-11-21T23:00:00Z"],
  ["any missed runs since monday", "UTC", "2026-11-16T00:00:00Z", "2026-11-22T09:00:00Z", "since monday"],
  ["since 2026-11-01", "Europe/Berlin", "2026-10-31T23:00:00Z", "2026-11-22T09:00:00Z"],
  ["on nov 3", "UTC", "2026-11-03T00:00:00Z", "2026-11-04T00:00:00Z", "nov 3"],
  ["nov 30", "UTC", "2025-11-30T00:00:00Z", "2025-12-01T00:00:00Z", "nov 30"],
  ["2026-11-03", "Europe/Berlin", "2026-11-02T23:00:00Z", "2026-11-03T23:00:00Z"],
  ["on the 17th", "UTC", "2026-11-17T00:00:00Z", "2026-11-18T00:00:00Z", "on the 17th"],
  ["3 days ago", "UTC", "2026-11-19T00:00:00Z", "2026-11-20T00:00:00Z"],
  ["whats scheduled for tonight", "UTC", "2026-11-22T18:00:00Z", "2026-11-23T06:00:00Z", "tonight"],
  ["what broke last night", "Europe/Berlin", "2026-11-21T17:00:00Z", "2026-11-22T05:00:00Z", "last night"],
  ["rest of today", "UTC", "2026-11-22T09:00:00Z", "2026-11-23T00:00:00Z"],
  // "in the last week" is the last 7×24 h; a bare "last week" is the previous calendar week.
  [
    "how many deploys in the last week",
    "UTC",
    "2026-11-15T09:00:00Z",
    "2026-11-22T09:00:00Z",
    "in the last week",
  ],
  ["deploys past week", "UTC", "2026-11-15T09:00:00Z", "2026-11-22T09:00:00Z", "past week"],
  ["deploys last week", "UTC", "2026-11-09T00:00:00Z", "2026-11-16T00:00:00Z", "last week"],
  ["this week", "UTC", "2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z"],
  ["this month", "Europe/Berlin", "2026-10-31T23:00:00Z", "2026-11-30T23:00:00Z"],
  ["last month", "UTC", "2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z"],
  [
    "how many jobs ran in the last 6h",
    "UTC",
    "2026-11-22T03:00:00Z",
    "2026-11-22T09:00:00Z",
    "in the last 6h",
  ],
  ["failures last 24hrs", "UTC", "2026-11-21T09:00:00Z", "2026-11-22T09:00:00Z", "last 24hrs"],
  [
    "failure rate over the past 3 days",
    "UTC",
    "2026-11-19T09:00:00Z",
    "2026-11-22T09:00:00Z",
    "over the past 3 days",
  ],
  ["last 2 weeks", "UTC", "2026-11-08T09:00:00Z", "2026-11-22T09:00:00Z"],
  ["over the past month", "UTC", "2026-10-23T09:00:00Z", "2026-11-22T09:00:00Z"],
  [
    "did it fail this morning",
    "Europe/Berlin",
    "2026-11-21T23:00:00Z",
    "2026-11-22T11:00:00Z",
    "this morning",
  ],
  [
    "what runs in the next 3 hours",
    "UTC",
    "2026-11-22T09:00:00Z",
    "2026-11-22T12:00:00Z",
    "in the next 3 hours",
  ],
  // Sunday: the weekend is Saturday 00:00 to now; on a weekend, "last weekend" is the one before.
  [
    "any failures over the weekend",
    "UTC",
    "2026-11-21T00:00:00Z",
    "2026-11-22T09:00:00Z",
    "over the weekend",
  ],
  ["deploys last weekend", "Europe/Berlin", "2026-11-13T23:00:00Z", "2026-11-15T23:00:00Z", "last weekend"],
  ["runs since 6am", "UTC", "2026-11-22T06:00:00Z", "2026-11-22T09:00:00Z", "since 6am"],
  ["runs since 6am", "Europe/Berlin", "2026-11-22T05:00:00Z", "2026-11-22T09:00:00Z", "since 6am"],
  ["spend since the 1st", "UTC", "2026-11-01T00:00:00Z", "2026-11-22T09:00:00Z", "since the 1st"],
  ["cost month to date", "UTC", "2026-11-01T00:00:00Z", "2026-11-22T09:00:00Z", "month to date"],
  [
    "tickets released in october",
    "Europe/Berlin",
    "2026-09-30T22:00:00Z",
    "2026-10-31T23:00:00Z",
    "in october",
  ],
  ["rows 2 days ago", "UTC", "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z", "2 days ago"],
];

describe("time windows", () => {
  for (const [text, tz, from, to, phrase] of CASES) {
    it(`reads "${text}" in ${tz}`, () => {
      const w = parseTimeWindow(text, NOW, tz);
      assert.ok(w, "a window");
      assert.equal(w.from.toISOString(), new Date(from).toISOString(), "from");
      assert.equal(w.to.toISOString(), new Date(to).toISOString(), "to");
      assert.equal(w.phrase, phrase ?? text, "phrase");
    });
  }

  it("finds no time where there is none", () => {
    for (const text of [
      "how many jobs in prod",
      "is gl_summary ok",
      "p95 runtime of train_churn_model",
      "top 5 jobs",
    ])
      assert.equal(parseTimeWindow(text, NOW, "UTC"), undefined, text);
  });

  it("labels a window in the asker's words and zone", () => {
    assert.equal(parseTimeWindow("yesterday", NOW, "Europe/Berlin")?.label, "yesterday (Sat 21 Nov)");
    assert.equal(parseTimeWindow("last 7 days", NOW, "UTC")?.label, "the last 7 days");
    assert.equal(parseTimeWindow("last tuesday", NOW, "UTC")?.label, "on Tue 17 Nov");
  });
});
