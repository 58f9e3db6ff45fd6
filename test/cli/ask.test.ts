// `houston ask`: a question in, terminal text out, with Slack emoji codes shown as symbols.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { askCommand, EMOJI, mapEmoji } from "../../src/cli/ask.ts";
import { DEMO_NOW, openDemoStore } from "../helpers/demo.ts";
import { describeEachStore, type TestStore } from "../helpers/store.ts";

describe("mapEmoji", () => {
  it("replaces the status codes the answers use", () => {
    assert.equal(
      mapEmoji(
        ":white_check_mark: ok :x: failed :warning: :arrows_counterclockwise: :leftwards_arrow_with_hook: :white_circle:",
      ),
      "✅ ok ❌ failed ⚠️ 🔄 ↩️ ⚪",
    );
  });

  it("leaves times and unknown codes alone", () => {
    assert.equal(
      mapEmoji("at 17:05:12, :not_an_emoji_we_know: and a:b:c"),
      "at 17:05:12, :not_an_emoji_we_know: and a:b:c",
    );
  });

  it("maps every code it lists", () => {
    for (const [name, symbol] of Object.entries(EMOJI)) assert.equal(mapEmoji(`:${name}:`), symbol);
  });
});

describeEachStore("houston ask", (kind) => {
  let store: TestStore;
  before(async () => {
    store = await openDemoStore(kind);
  });
  after(() => store.dispose());
  const opts = () => ({ store, now: DEMO_NOW, timezone: "UTC" });

  it("answers a question as plain terminal text with symbols", async () => {
    const out = await askCommand("did the deployment of finance_close work?", opts());
    assert.match(
      out,
      /^Understood: Deploys of artifact `finance_close`\nYes — the latest deploy of `finance_close`, v1\.8\.1 to prod/,
    );
    assert.match(out, /❌ v1\.8\.0 → prod: failed on Fri 20 Nov 15:20 \(DATA-1252\)/);
    assert.match(out, /✅ v1\.8\.1/);
    assert.match(out, /⚠️ Before it, 1 failed attempt in prod/);
    assert.doesNotMatch(out, /:(?:x|white_check_mark|warning):/);
    // No Slack markup left: bold markers are stripped, entities decoded.
    assert.doesNotMatch(out, /\*Yes|&lt;|&gt;|&amp;/);
  });

  it("shows times in the time zone given", async () => {
    const out = await askCommand("did the deployment of finance_close work?", {
      ...opts(),
      timezone: "Europe/Berlin",
    });
    assert.match(out, /v1\.8\.0 → prod: failed on Fri 20 Nov 16:20/);
  });

  it("answers help and says when it does not understand", async () => {
    assert.match(await askCommand("help", opts()), /^Houston answers questions about your pipelines/);
    assert.match(await askCommand("what is the meaning of life?", opts()), /^I didn't understand/);
  });

  it("turns an unknown name into did-you-mean", async () => {
    assert.match(
      await askCommand("did the deployment of finanse_close work?", opts()),
      /No artifact `finanse_close`; did you mean `finance_close`\?/,
    );
  });
});
