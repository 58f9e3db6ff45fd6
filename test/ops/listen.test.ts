// A port already in use: one line naming PORT on stderr (it was a raw EADDRINUSE stack),
// a non-zero exit, and the embedded store closed behind it.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { startHouston } from "./process.ts";

it(
  "says in one line that PORT is in use and exits 1 when the port is taken",
  { timeout: 120_000 },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "houston-listen-"));
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, resolve));
    const port = (taken.address() as { port: number }).port;
    const houston = startHouston({ HOUSTON_DATA_DIR: join(dir, "data"), PORT: String(port) });
    try {
      const exit = await houston.exited;
      assert.equal(exit.code, 1);
      const stderr = houston.stderr().trim();
      assert.equal(stderr.split("\n").length, 1, `one line: ${stderr}`);
      assert.match(stderr, new RegExp(`PORT=${port}\\b`));
      assert.match(stderr, /already in use/);
      assert.doesNotMatch(stderr, /\n\s+at /, "no stack");
      assert.equal(existsSync(join(dir, "data", "lock")), false, "the store was closed");
    } finally {
      houston.kill();
      await new Promise<void>((resolve) => taken.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
