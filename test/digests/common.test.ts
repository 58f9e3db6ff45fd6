// A digest's fallback text reaches notifications: Slack reads `<!channel>` and `<url|label>`
// there as it does in blocks, so a group or environment named so must stay escaped in it.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { digestTitle, digestToTerminal, emptyDigest, scopeText } from "../../src/digests/common.ts";
import { digestPeriods } from "../../src/digests/period.ts";
import type { DigestRequest } from "../../src/digests/types.ts";
import type { Store } from "../../src/db/client.ts";

describe("an empty digest's fallback text", () => {
  // Nothing here reads the store.
  const req: DigestRequest = {
    store: {} as Store,
    chart: false,
    date: "2026-11-21",
    days: 1,
    timezone: "UTC",
    environment: "<https://evil.example|prod>",
    group: "<!channel>",
  };
  const periods = digestPeriods(req);
  const d = emptyDigest(
    "anomalies",
    digestTitle("Daily anomalies", req, periods),
    `No anomalies${scopeText(req)}: 12 jobs and 3 datasets checked.`,
  );

  it("keeps Slack's markup escaped, as in the block", () => {
    assert.ok(!d.text.includes("<!channel>"), d.text);
    assert.ok(!d.text.includes("<https://"), d.text);
    assert.match(d.text, /group &lt;!channel&gt;/);
    assert.ok(!d.text.includes("*"), "bold is dropped from the fallback");
  });

  it("shows the names as typed in the terminal", () => {
    assert.match(digestToTerminal(d), /group <!channel>/);
    assert.match(digestToTerminal(d), /<https:\/\/evil\.example\|prod>/);
  });
});
