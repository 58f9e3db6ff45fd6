import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { sql } from "drizzle-orm";
import { openStore } from "../../src/db/client.ts";

const run = promisify(execFile);
const BIN = path.resolve(import.meta.dirname, "../../bin/houston.mjs");

describe("houston ingest", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "houston-ingest-"));
    env = {
      ...process.env,
      HOUSTON_DATA_DIR: path.join(dir, "data"),
      DATABASE_URL: "",
      HOUSTON_URL: "",
      HOUSTON_CONFIG: "",
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const runCount = async () => {
    const store = await openStore({ dataDir: path.join(dir, "data") });
    await store.migrate();
    const rows = await store.query<{ n: number }>(sql`SELECT count(*)::int AS n FROM runs`);
    await store.close();
    return rows[0]!.n;
  };

  it("stops at the first bad record, names its line, exits non-zero and writes nothing", async () => {
    const lines = Array.from({ length: 2500 }, (_, i) =>
      JSON.stringify({
        type: "run",
        job: `job_${i % 7}`,
        run_id: `r${i}`,
        status: "success",
        ended_at: "2026-11-21T01:00:00Z",
      }),
    );
    lines.splice(
      2100,
      0,
      JSON.stringify({ type: "run", job: "x", status: "finished", ended_at: "2026-11-21T01:00:00Z" }),
    );
    const file = path.join(dir, "bad.ndjson");
    writeFileSync(file, `${lines.join("\n")}\n`);
    await assert.rejects(
      run(process.execPath, [BIN, "ingest", file], { env }),
      (err: { code: number; stderr: string }) => {
        assert.equal(err.code, 2);
        assert.match(err.stderr, /bad\.ndjson:2101: status "finished" is not one of/);
        return true;
      },
    );
    assert.equal(await runCount(), 0);
  });

  it("loads NDJSON in batches and prints a summary", async () => {
    const lines = Array.from({ length: 2500 }, (_, i) =>
      JSON.stringify({
        type: "run",
        id: `e${i}`,
        job: `job_${i % 7}`,
        run_id: `r${i}`,
        status: "success",
        ended_at: "2026-11-21T01:00:00Z",
      }),
    );
    const file = path.join(dir, "good.ndjson");
    writeFileSync(file, lines.join("\n"));
    const first = await run(process.execPath, [BIN, "ingest", file], { env });
    assert.match(first.stdout, /ingested 2,500 events: 2,500 accepted, 0 duplicates/);
    const second = await run(process.execPath, [BIN, "ingest", file], { env });
    assert.match(second.stdout, /ingested 2,500 events: 0 accepted, 2,500 duplicates/);
    assert.equal(await runCount(), 2500);
  });

  it("reads a JSON array from stdin", async () => {
    const child = execFile(process.execPath, [BIN, "ingest", "-"], { env });
    child.stdin!.end(
      JSON.stringify([
        { type: "deploy", artifact: "a", kind: "code", status: "success", at: "2026-11-21T01:00:00Z" },
      ]),
    );
    const out = await new Promise<string>((resolve, reject) => {
      let s = "";
      let err = "";
      child.stdout!.on("data", (d) => {
        s += d;
      });
      child.stderr!.on("data", (d) => {
        err += d;
      });
      // The error carries what the CLI said, so a failure says why.
      child.on("exit", (code) => (code === 0 ? resolve(s) : reject(new Error(`exit ${code}: ${err}${s}`))));
    });
    assert.match(out, /ingested 1 events: 1 accepted/);
  });
});
