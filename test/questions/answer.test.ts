// Answers are Block Kit and a fallback text at once; both must keep names that look like
// Slack markup (a job called "<!channel>") from notifying anyone.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AnswerBuilder, code, esc, toTerminal } from "../../src/questions/answer.ts";

describe("answer fallback text", () => {
  const name = "<!channel> nightly <https://evil.example|click>";
  const a = new AnswerBuilder()
    .headline(`${code(name)} failed`)
    .section(`error: ${esc(name)}`)
    .fields([["job", esc(name)]])
    .buttons("x", [{ text: name, value: "v" }])
    .from(`runs of ${esc(name)}`)
    .build();

  it("keeps Slack's markup escaped in the fallback text, as in the blocks", () => {
    assert.ok(!a.text.includes("<!channel>"), a.text);
    assert.ok(!a.text.includes("<https://"), a.text);
    assert.match(a.text, /&lt;!channel&gt;/);
    assert.ok(!a.text.includes("*"), "bold is dropped from the fallback");
  });

  it("shows the names as typed in the terminal", () => {
    const t = toTerminal(a);
    assert.match(t, /<!channel> nightly <https:\/\/evil\.example\|click>/);
    assert.match(t, /^1\. <!channel>/m, "buttons become a numbered list");
  });
});
