// `houston <subcommand> --help` prints usage and does nothing else (it once opened incidents,
// started a server, seeded the demo and migrated); `--version` prints the version.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { main, wantsHelp } from "../../src/cli/main.ts";

/** Runs the CLI in-process and returns its exit code and what it printed. */
async function cli(argv: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    return { code: await main(argv), out: lines.join("\n") };
  } finally {
    console.log = log;
  }
}

describe("houston --help and --version", () => {
  let dir: string;
  const saved: Record<string, string | undefined> = {};
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "houston-help-"));
    for (const k of ["HOUSTON_DATA_DIR", "DATABASE_URL", "HOUSTON_URL"]) saved[k] = process.env[k];
    // Were a subcommand to run, it would create this store (or fail to reach these).
    process.env["HOUSTON_DATA_DIR"] = path.join(dir, "store");
    process.env["DATABASE_URL"] = "";
    process.env["HOUSTON_URL"] = "";
  });
  after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  for (const argv of [
    ["serve", "--help"],
    ["migrate", "--help"],
    ["demo", "--help"],
    ["demo", "--days", "30", "-h"],
    ["monitors", "run", "--help"],
    ["monitors", "run", "--at", "2026-12-01T00:00:00Z", "-h"],
    ["ask", "--help"],
    ["ingest", "--help"],
    ["digest", "sla", "--help"],
    ["config", "check", "--help"],
    ["run", "--job", "x", "--help", "--", "false"],
  ]) {
    it(`prints usage for \`houston ${argv.join(" ")}\` and does nothing else`, async () => {
      const { code, out } = await cli(argv);
      assert.equal(code, 0);
      assert.match(out, new RegExp(`^Usage: houston ${argv[0]}`));
      assert.equal(existsSync(path.join(dir, "store")), false, "no store was opened");
    });
  }

  it("prints the package's version", async () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    for (const flag of ["--version", "-V"])
      assert.deepEqual(await cli([flag]), { code: 0, out: `houston ${pkg.version}` });
  });

  it("leaves --help after -- to the wrapped command", () => {
    assert.equal(wantsHelp(["--job", "x", "--", "mytool", "--help"]), false);
    assert.equal(wantsHelp(["--job", "x", "-h", "--", "mytool"]), true);
  });

  it("`houston help <command>` prints that command's usage", async () => {
    const { code, out } = await cli(["help", "ingest"]);
    assert.equal(code, 0);
    assert.match(out, /^Usage: houston ingest FILE\|-/);
  });
});
