// A stand-in for the `houston run` entry point, for tests that need a real process:
// run.fixture.ts HOUSTON_URL SEND_TIMEOUT_MS <args after "run">. It lets the process
// exit on its own (exitCode, no process.exit) so a lingering timer or socket would show.
import { httpSink, parseRunArgs, runWrapped } from "../../src/cli/run.ts";

const [url = "", timeout = "5000", ...runArgs] = process.argv.slice(2);
const sendTimeoutMs = Number(timeout);
const parsed = parseRunArgs(runArgs);
process.exitCode = await runWrapped({
  ...parsed,
  sink: httpSink(url, "fixture-token", sendTimeoutMs),
  stderr: process.stderr,
  sendTimeoutMs,
});
