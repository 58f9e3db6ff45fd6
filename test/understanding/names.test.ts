// The name index: spellings people type → the store's names; ambiguity kept, not guessed.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { editDistance, type KnownName, NameIndex, words } from "../../src/understanding/names.ts";

const NAMES: KnownName[] = [
  { kind: "job", name: "finance_close.gl_summary" },
  { kind: "job", name: "finance_close.fx_revaluation" },
  { kind: "job", name: "finance_close.fx_reval_dev" },
  { kind: "job", name: "dashboards_refresh.sales_dashboard" },
  { kind: "job", name: "ml_features.user_embeddings" },
  { kind: "group", name: "finance_close" },
  { kind: "dataset", name: "finance.gl_summary" },
  { kind: "dataset", name: "bi.sales_dashboard_extract" },
  { kind: "supplier", name: "acme_payments" },
  { kind: "project", name: "PRJ-FINANCE" },
];
const index = new NameIndex(NAMES);
const top = (q: string) => index.find(words(q)).map((m) => m.candidates.map((c) => `${c.kind}:${c.name}`));

describe("name index", () => {
  it("reads a name across spaces, underscores, hyphens, dots and case, with or without its prefix", () => {
    for (const q of [
      "gl summary",
      "GL_Summary",
      "gl-summary",
      "finance_close.gl_summary",
      "Finance Close GL summary",
    ])
      assert.ok(top(q).flat().includes("job:finance_close.gl_summary"), q);
  });

  it("offers both a job and its dataset when the words fit both", () => {
    const [first] = top("did gl summary run");
    assert.deepEqual(first?.slice().sort(), ["dataset:finance.gl_summary", "job:finance_close.gl_summary"]);
  });

  it("forgives a typo in proportion to the word's length, but not in short words", () => {
    assert.ok(top("user embedings").flat().includes("job:ml_features.user_embeddings"));
    assert.ok(top("acme paymnets").flat().includes("supplier:acme_payments"));
    assert.deepEqual(top("gl sumary ran").flat().includes("job:finance_close.gl_summary"), true);
    assert.equal(editDistance("gl", "gi", 0), 1);
    assert.equal(top("ab summarx").length, 0);
  });

  it("completes a clipped word and prefers the name it completes whole", () => {
    const [first] = top("fx reval");
    assert.equal(first?.[0], "job:finance_close.fx_revaluation");
  });

  it("finds a name said as a run of its words", () => {
    assert.ok(top("is the sales dashboard data fresh").flat().includes("dataset:bi.sales_dashboard_extract"));
  });

  it("does not take common words for names", () => {
    assert.deepEqual(top("how many jobs failed yesterday"), []);
    assert.deepEqual(top("give me a summary of the day"), []);
  });
});
