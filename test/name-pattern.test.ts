import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseHoustonFile, HoustonFileError } from "../src/houston-yml.ts";
import {
  compileNamePattern,
  MAX_NAME_PATTERN_LENGTH,
  namePattern,
  namePatternProblem,
} from "../src/name-pattern.ts";

/** The meaning patterns had when they were regular expressions: the oracle for small inputs. */
function byRegExp(pattern: string, name: string): boolean {
  const body = pattern
    .split("*")
    .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`, "is").test(name);
}

describe("name patterns", () => {
  it("matches * patterns against the whole name, ignoring case; other characters are literal", () => {
    assert.ok(namePattern("orders_*").test("orders_daily.fct_orders"));
    assert.ok(namePattern("*.fct_*").test("orders_daily.fct_orders"));
    assert.ok(!namePattern("orders").test("orders_daily"));
    assert.ok(namePattern("ORDERS_DAILY.*").test("orders_daily.x"));
    assert.ok(!namePattern("a.b").test("axb"), "a dot is a dot");
    assert.ok(namePattern("a+b(c)").test("A+B(C)"), "regex characters are literal");
    assert.ok(namePattern("spark/*").test("spark/ml_features.train"), "* crosses namespace/name");
    assert.ok(namePattern("*").test(""));
    assert.ok(!namePattern("ab*ba").test("aba"), "prefix and suffix may not overlap");
    assert.ok(namePattern("a*a*a").test("aaa"));
    assert.ok(!namePattern("a*a*a").test("aa"));
  });

  it("agrees with the regular-expression meaning on every small pattern and name", () => {
    const alphabet = ["a", "b", "*"];
    const patterns: string[] = [""];
    for (let len = 1; len <= 5; len++)
      for (let i = 0; i < alphabet.length ** len; i++) {
        let s = "";
        for (let k = 0, n = i; k < len; k++, n = Math.floor(n / alphabet.length))
          s += alphabet[n % alphabet.length];
        patterns.push(s);
      }
    const names: string[] = [""];
    for (let len = 1; len <= 6; len++)
      for (let i = 0; i < 2 ** len; i++) {
        let s = "";
        for (let k = 0; k < len; k++) s += (i >> k) & 1 ? "b" : "a";
        names.push(s);
      }
    let checked = 0;
    for (const p of patterns) {
      const compiled = compileNamePattern(p);
      for (const n of names) {
        assert.equal(compiled.test(n), byRegExp(p, n), `${JSON.stringify(p)} on ${JSON.stringify(n)}`);
        checked++;
      }
    }
    assert.ok(checked > 40_000);
  });

  it("answers a many-star pattern that backtracks a regular expression forever, at once", () => {
    // With a RegExp this is exponential: 20 stars pinned the CPU until the process was killed.
    const stars = "*".repeat(60) + "q";
    const name = "a".repeat(190);
    assert.equal(namePattern(stars).test(name), false);
    assert.equal(namePattern(stars).test(name + "q"), true);
    assert.equal(namePattern("*a".repeat(90) + "*q").test(name), false);
  });

  it("bounds a pattern's length", () => {
    assert.equal(namePatternProblem("x".repeat(MAX_NAME_PATTERN_LENGTH)), undefined);
    assert.match(namePatternProblem("x".repeat(MAX_NAME_PATTERN_LENGTH + 1)) ?? "", /at most 200/);
    assert.match(namePatternProblem("") ?? "", /empty/);
  });

  it("refuses over-long match: and maintenance subject: patterns in houston.yml", () => {
    const long = "*".repeat(MAX_NAME_PATTERN_LENGTH) + "x";
    const text = [
      "defaults:",
      "  maintenance:",
      `    - { start: "0 2 * * 0", duration: 2h, subject: "${long}" }`,
      "jobs:",
      `  - match: "${long}"`,
      '    channel: "#x"',
    ].join("\n");
    assert.throws(
      () => parseHoustonFile(text, "houston.yml", "UTC"),
      (err: unknown) =>
        err instanceof HoustonFileError &&
        err.problems.some((p) => p.includes("maintenance[0].subject") && p.includes("at most 200")) &&
        err.problems.some((p) => p.includes("jobs[0].match") && p.includes("at most 200")),
    );
  });
});
