// SIGTERM on a real `node dist/src/main.js` (the build `npm start` runs): readiness fails at once, the PagerDuty
// delivery in flight finishes and is recorded, and the process exits 0 within 10 s. Also, in
// process: while draining, probes and new requests get 503 and a request in progress finishes.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { sql } from "drizzle-orm";
import { openStore, type Store } from "../../src/db/client.ts";
import { enqueue } from "../../src/outbox/enqueue.ts";
import { buildTriggerEvent } from "../../src/pagerduty/events.ts";
import { startTestApp, TEST_TOKEN } from "../helpers/app.ts";
import { createPgDatabase, describeEachStore, type StoreKind } from "../helpers/store.ts";
import { startHouston, startSlowPagerDuty } from "./process.ts";

const ROUTING_KEY = "SHUTDOWNR0UTINGKEY0123456789abcd";
/** The fake PagerDuty answers this long after the event arrives: SIGTERM lands in between. */
const PD_DELAY_MS = 2_500;

interface Prepared {
  env: Record<string, string>;
  open(): Promise<Store>;
  dispose(): Promise<void>;
}

async function prepare(kind: StoreKind, dir: string): Promise<Prepared> {
  if (kind === "pglite") {
    const dataDir = join(dir, "data");
    return {
      env: { HOUSTON_DATA_DIR: dataDir },
      open: () => openStore({ dataDir }),
      dispose: async () => {},
    };
  }
  const db = await createPgDatabase();
  return {
    env: { DATABASE_URL: db.url },
    open: () => openStore({ databaseUrl: db.url, maxConnections: 2 }),
    dispose: db.drop,
  };
}

describeEachStore("shutting down on SIGTERM", (kind) => {
  it(
    "finishes the PagerDuty delivery in flight, records it and exits 0 within 10 s",
    { timeout: 150_000 },
    async (t) => {
      const dir = mkdtempSync(join(tmpdir(), "houston-shutdown-"));
      const prepared = await prepare(kind, dir);
      const pd = await startSlowPagerDuty(dir, PD_DELAY_MS);
      let houston: ReturnType<typeof startHouston> | undefined;
      try {
        // A page waiting in the outbox before Houston starts: the worker picks it up at once.
        const seed = await prepared.open();
        await seed.migrate();
        const body = buildTriggerEvent(
          {
            key: "shutdown-test",
            kind: "failed_run",
            subject: "job.nightly",
            summary: "nightly failed",
            severity: "error",
            groupName: null,
            details: {},
            routingKey: null,
          },
          { routingKey: ROUTING_KEY },
        );
        await seed.transaction((tx) =>
          enqueue(seed, tx, [{ target: "pagerduty", orderingKey: "pagerduty:shutdown-test", payload: body }]),
        );
        await seed.close();

        houston = startHouston({
          ...prepared.env,
          PORT: "0",
          LOG_LEVEL: "info",
          PAGERDUTY_EVENTS_SERVER: pd.server,
          NODE_EXTRA_CA_CERTS: pd.caFile,
        });
        const port = await houston.port;
        const url = `http://127.0.0.1:${port}`;
        assert.equal((await fetch(`${url}/readyz`)).status, 200);
        await pd.arrived;
        assert.equal(pd.answered.length, 0, "the delivery is in flight");

        const signalled = performance.now();
        houston.child.kill("SIGTERM");
        await houston.waitFor((l) => String(l["msg"]).startsWith("shutting down"), "the shutdown line");
        // Not ready any more, while the delivery is still finishing.
        assert.equal((await fetch(`${url}/readyz`)).status, 503);
        assert.equal(pd.answered.length, 0);

        const exit = await houston.exited;
        const took = exit.at - signalled;
        assert.equal(exit.code, 0, `exit code; stderr: ${houston.stderr()}`);
        assert.ok(took < 10_000, `exited in ${Math.round(took)} ms`);
        t.diagnostic(`exited ${Math.round(took)} ms after SIGTERM (the delivery needed ${PD_DELAY_MS} ms)`);
        assert.ok(took >= PD_DELAY_MS - 1_000, "it waited for the delivery");
        assert.equal(pd.answered.length, 1);

        const msgs = houston.lines.map((l) => String(l["msg"]));
        const shutdownAt = msgs.findIndex((m) => m.startsWith("shutting down"));
        const deliveredAt = msgs.indexOf("outbox: pagerduty message delivered");
        assert.ok(deliveredAt > shutdownAt, `delivered after the signal: ${msgs.join(" | ")}`);
        assert.equal(msgs.at(-1), "stopped");
        assert.equal(houston.stderr(), "");

        const after = await prepared.open();
        try {
          const rows = await after.query<{ state: string; attempts: number }>(
            sql`SELECT state, attempts FROM outbox`,
          );
          assert.deepEqual(rows, [{ state: "delivered", attempts: 1 }]);
        } finally {
          await after.close();
        }
      } finally {
        houston?.kill();
        await pd.close();
        await prepared.dispose();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it("answers 503 to probes and new work while draining, and lets a request in progress finish", async () => {
    const t = await startTestApp(kind);
    try {
      const port = (t.app.http.server.address() as { port: number }).port;
      // A request in progress: headers and half of its body sent when the drain starts.
      const body = JSON.stringify({
        type: "run",
        job: "drained",
        status: "success",
        started_at: "2026-11-22T08:00:00Z",
      });
      const socket = connect(port, "127.0.0.1");
      await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
      let received = "";
      socket.setEncoding("utf8");
      socket.on("data", (d: string) => (received += d));
      socket.write(
        `POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_TOKEN}\r\n` +
          `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 20)}`,
      );
      await new Promise((r) => setTimeout(r, 100));

      let settled: boolean | undefined;
      const quiet = t.app.http.quiesce(5_000).then((ok) => (settled = ok));
      const readyz = await fetch(`${t.url}/readyz`);
      assert.equal(readyz.status, 503);
      assert.match(await readyz.text(), /draining/);
      assert.equal((await fetch(`${t.url}/healthz`)).status, 200, "alive, just not ready");
      assert.equal(
        (await t.post("/api/v1/events", { type: "run", job: "late", status: "success" })).status,
        503,
      );
      assert.equal(settled, undefined, "still waiting for the request in progress");

      socket.write(body.slice(20));
      assert.equal(await quiet, true);
      for (let i = 0; i < 100 && !received.includes('"accepted"'); i++)
        await new Promise((r) => setTimeout(r, 20));
      assert.match(received, /^HTTP\/1\.1 200/);
      assert.match(received, /"accepted":1/);
      socket.destroy();
    } finally {
      await t.close();
    }
  });
});
