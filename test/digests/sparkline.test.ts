import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sparkline } from "../../src/digests/sparkline.ts";

describe("sparkline", () => {
  it("scales a series between its minimum and maximum, one character a day", () => {
    assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7]), "▁▂▃▄▅▆▇█");
    assert.equal(sparkline([10, 80, 10]), "▁█▁");
  });

  it("shows missing days as gaps and a flat series as a level line", () => {
    assert.equal(sparkline([1, null, 3, Number.NaN, undefined]), "▁ █  ");
    assert.equal(sparkline([5, 5, 5]), "▄▄▄");
    assert.equal(sparkline([]), "");
    assert.equal(sparkline([null, null]), "");
  });

  it("keeps one spike visible in 14 days of otherwise steady values", () => {
    const s = sparkline([14, 15, 14, 13, 14, 15, 14, 14, 13, 15, 14, 14, 14, 57]);
    assert.equal([...s].length, 14);
    assert.equal([...s].at(-1), "█");
    assert.ok([...s].slice(0, 13).every((c) => c === "▁"));
  });
});
