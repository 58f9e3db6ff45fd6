import assert from "node:assert/strict";
import { it } from "node:test";
import { Gate } from "../../src/ingest/routes.ts";

it("Gate runs at most `limit` tasks at once, in arrival order, and frees a slot when a task fails", async () => {
  const gate = new Gate(2);
  let running = 0;
  let peak = 0;
  const started: number[] = [];
  const releases: (() => void)[] = [];
  const task = (n: number, fail = false) =>
    gate.run(async () => {
      started.push(n);
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
      if (fail) throw new Error(`task ${n} failed`);
      return n;
    });
  const tick = () => new Promise((r) => setImmediate(r));
  const results = [task(1, true), task(2), task(3), task(4)].map((p) => p.catch((e: Error) => e.message));
  await tick();
  assert.deepEqual(started, [1, 2], "two start, two wait");
  releases.shift()!(); // 1 fails: its slot goes to 3
  await tick();
  assert.deepEqual(started, [1, 2, 3]);
  while (releases.length) {
    releases.shift()!();
    await tick();
  }
  assert.deepEqual(await Promise.all(results), ["task 1 failed", 2, 3, 4]);
  assert.equal(peak, 2);
  assert.equal(await gate.run(async () => "free again"), "free again");
});
