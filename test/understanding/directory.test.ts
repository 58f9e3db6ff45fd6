// The name index kept current from the store: a name ingested through one process is
// understood by another (its own connection pool on the same database) once its index
// refreshes, within REFRESH_MS.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { openStore, type Store } from "../../src/db/client.ts";
import { Ingestor } from "../../src/ingest/apply.ts";
import { forgetNameIndex, nameIndex, REFRESH_MS } from "../../src/understanding/directory.ts";
import { words } from "../../src/understanding/names.ts";
import { describeEachStore, openTestStore, type TestStore } from "../helpers/store.ts";

const at = new Date("2026-11-21T02:00:00Z");
const run = (job: string, group: string) => ({
  type: "run" as const,
  namespace: "airflow",
  job,
  group,
  runId: `${job}-1`,
  status: "success" as const,
  startedAt: at,
  endedAt: new Date(at.getTime() + 60_000),
  eventTime: new Date(at.getTime() + 60_000),
});

describeEachStore("name index from the store", (kind) => {
  let store: TestStore;
  let other: Store;
  before(async () => {
    store = await openTestStore(kind);
    // Another replica: its own pool on the same database (PGlite is one process: the same store).
    other = kind === "postgres" ? await openStore({ databaseUrl: store.url!, maxConnections: 2 }) : store;
  });
  after(async () => {
    if (other !== store) await other.close();
    await store.dispose();
  });

  it("understands a job ingested through another replica once the index refreshes", async () => {
    forgetNameIndex(other);
    const t0 = Date.now();
    const before = await nameIndex(other, t0);
    assert.deepEqual(before.find(words("did billing invoice run")), []);
    await new Ingestor(store).apply([run("billing.invoice_run", "billing")]);
    // Within the refresh interval the replica may still answer from its index …
    assert.equal(await nameIndex(other, t0 + 1), before);
    // … just after it too, while it refreshes behind the question …
    assert.equal(await nameIndex(other, t0 + REFRESH_MS + 1), before);
    // … and reads the new name once that refresh is in (or, past twice the interval, waits for it).
    const fresh = await nameIndex(other, t0 + 2 * REFRESH_MS + 2);
    const found = fresh
      .find(words("did billing invoice run"))
      .flatMap((m) => m.candidates.map((c) => c.name));
    assert.ok(found.includes("billing.invoice_run"), JSON.stringify(found));
    assert.ok(fresh.names.some((n) => n.kind === "group" && n.name === "billing"));
  });
});
