// The `houston` command line. Subcommands are small functions over the same config and
// store as the server; each prints what it did and exits non-zero with a fix on failure.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { type Config, ConfigError, loadConfig } from "../config.ts";
import { openStore, type Store, StoreLockedError } from "../db/client.ts";
import { digestAnomalySettings, HoustonFileError, loadHoustonFile, monitorConfig } from "../houston-yml.ts";
import { digestSlackClient } from "../digests/deliver.ts";
import { Ingestor } from "../ingest/apply.ts";
import { createLogger } from "../log.ts";
import type { HoustonEvent, IngestResult } from "../ingest/events.ts";
import { toNativeEvent } from "../ingest/serialize.ts";
import { evaluate } from "../monitors/evaluate.ts";
import { runMonitors } from "../monitors/runner.ts";
import { askCommand, mapEmoji } from "./ask.ts";
import { digestCommand, parseDigestArgs } from "./digest.ts";
import { seedDemo } from "./demo.ts";
import { BadRecordError, type BatchSink, ingestFile } from "./ingest.ts";
import { httpSink, parseRunArgs, type RunSink, runWrapped, UsageError } from "./run.ts";

const USAGE = `houston — DataOps mission control

Usage:
  houston serve                         run the service (same as npm start)
  houston ingest FILE|-                 load JSON or NDJSON events (native format) into the store
  houston run --job NAME [--group G] [--namespace N] [--env E] -- COMMAND [ARGS…]
                                        run a command and record it as a run of NAME
  houston demo [--until YYYY-MM-DD] [--days N]
                                        seed a deterministic 30-day demo fleet
  houston ask "QUESTION"                answer a question as Slack would (e.g. "did gl_summary run yesterday?")
  houston monitors run [--at ISO] [--dry-run]
                                        evaluate every monitor at an instant (default now); --dry-run
                                        prints the breaches without opening incidents
  houston digest <sla|anomalies|resources> [--date YYYY-MM-DD] [--tz TZ] [--env E] [--group G]
                 [--weekly] [--print | --channel C] [--png FILE]
                                        print any day's digest (default: yesterday), post it now to a
                                        channel, or write its chart PNG
  houston migrate                       apply database migrations and exit
  houston config check                  validate houston.yml (HOUSTON_CONFIG) and the environment
  houston <command> --help              that command's usage; houston --version prints the version

Where data goes: HOUSTON_URL (+ HOUSTON_TOKEN) sends to a running Houston; otherwise the
store is used directly: DATABASE_URL, or the embedded store in HOUSTON_DATA_DIR (.houston).`;

async function withStore<T>(config: Config, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(
    config.databaseUrl
      ? { databaseUrl: config.databaseUrl }
      : {
          dataDir: config.dataDir,
          onImageError: (err) =>
            console.error(
              `houston: the build's image of a migrated store could not be loaded (${(err as Error).message}); creating the store without it`,
            ),
        },
  );
  try {
    await store.migrate();
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** Sends batches to a remote Houston's events API. */
function remoteBatchSink(url: string, token: string | undefined): BatchSink {
  const endpoint = `${url.replace(/\/+$/, "")}/api/v1/events`;
  return {
    async send(events) {
      const res = await fetch(endpoint, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify(events.map(toNativeEvent)),
      });
      const body = (await res.json().catch(() => ({}))) as IngestResult & { error?: string };
      if (!res.ok) throw new Error(`${endpoint} answered ${res.status}: ${body.error ?? "no message"}`);
      return body;
    },
  };
}

/** Each subcommand's own usage, for `houston <subcommand> --help`. */
const SUBCOMMAND_USAGE: Record<string, string> = {
  serve: `Usage: houston serve

Runs the service (the same as npm start): the events and OpenLineage endpoints, Slack,
monitors, digests and PagerDuty. Configured by the environment (see the README).`,
  ingest: `Usage: houston ingest FILE|-

Loads JSON or NDJSON events in the native format from FILE (or - for stdin). With HOUSTON_URL
(+ HOUSTON_TOKEN) they are sent to that Houston; otherwise written to the store directly.`,
  run: `Usage: houston run --job NAME [--group G] [--namespace N] [--env E] -- COMMAND [ARGS…]

Runs COMMAND and records it as a run of NAME: a start, then success or failure with its exit
code, duration, CPU and memory. COMMAND's exit code is houston's exit code.`,
  demo: `Usage: houston demo [--until YYYY-MM-DD] [--days N]

Seeds a deterministic demo fleet of N days (15–120, default 30) ending on --until (default
today) into the store, and prints the stories planted in it.`,
  ask: `Usage: houston ask "QUESTION"

Answers a question as /houston would in Slack, e.g. houston ask "did gl_summary run yesterday?"`,
  monitors: `Usage: houston monitors run [--at ISO] [--dry-run]

Evaluates every monitor at an instant (default now) and opens, updates or resolves incidents;
--dry-run prints the breaches without opening incidents or queueing notifications.`,
  digest: `Usage: houston digest <sla|anomalies|resources> [--date YYYY-MM-DD] [--tz TZ] [--env E] [--group G]
                      [--weekly] [--print | --channel C] [--png FILE]

Prints any day's digest (default: yesterday), posts it now to a channel, or writes its chart PNG.`,
  migrate: `Usage: houston migrate

Applies the database migrations to DATABASE_URL (or the embedded store) and exits.`,
  config: `Usage: houston config check

Validates houston.yml (HOUSTON_CONFIG) and the environment, and says what it found.`,
};

/** True when the words before a `--` ask for help: nothing is run then. */
export function wantsHelp(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** The version in package.json, found from this file in src/ or in dist/src/. */
export function version(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === "houston" && pkg.version) return pkg.version;
    } catch {
      // No package.json here: look one folder up.
    }
    dir = path.dirname(dir);
  }
  return "unknown";
}

/** Asks a running Houston's POST /api/v1/ask (the token must be one of its HOUSTON_ASK_TOKENS). */
async function askRemote(
  url: string,
  token: string | undefined,
  question: string,
  timezone: string,
): Promise<string> {
  const endpoint = `${url.replace(/\/+$/, "")}/api/v1/ask`;
  const res = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ question, timezone }),
  });
  const body = (await res.json().catch(() => ({}))) as { text?: string; error?: string };
  if (!res.ok) throw new Error(`${endpoint} answered ${res.status}: ${body.error ?? "no message"}`);
  return mapEmoji(body.text ?? "");
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith("--")) throw new UsageError(`${name} needs a value\n\n${USAGE}`);
  return v;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv;
  if (cmd === "--version" || cmd === "-V" || cmd === "version") {
    console.log(`houston ${version()}`);
    return 0;
  }
  if (cmd === "help" && args[0] && SUBCOMMAND_USAGE[args[0]]) {
    console.log(SUBCOMMAND_USAGE[args[0]]);
    return 0;
  }
  if (!cmd || cmd === "help" || cmd === "--help" || cmd === "-h") {
    console.log(USAGE);
    return cmd ? 0 : 2;
  }
  // Before anything is loaded or opened: `monitors run --help` once opened incidents.
  if (wantsHelp(args)) {
    const usage = SUBCOMMAND_USAGE[cmd];
    if (!usage) throw new UsageError(`unknown command: ${cmd}\n\n${USAGE}`);
    console.log(usage);
    return 0;
  }
  const config = loadConfig();
  switch (cmd) {
    case "serve": {
      await import("../main.ts");
      return new Promise<number>(() => {}); // runs until a signal ends the process
    }
    case "migrate":
      await withStore(config, async () => {});
      console.log("migrations applied");
      return 0;
    case "config": {
      if (args[0] !== "check") throw new UsageError(`unknown: houston config ${args[0] ?? ""}\n\n${USAGE}`);
      const file = loadHoustonFile(config.houstonConfigPath, config.timezone);
      console.log(
        file.path
          ? `${file.path}: ok (${file.jobs.length} job(s), ${file.jobs.filter((j) => j.schedule).length} with a schedule, ` +
              `${file.datasets.length} dataset(s), ${file.subscriptions?.length ?? 0} digest subscription(s))`
          : "no houston.yml found (set HOUSTON_CONFIG); environment ok",
      );
      return 0;
    }
    case "ingest": {
      const file = args[0];
      if (!file) throw new UsageError(`houston ingest needs a FILE (or - for stdin)\n\n${USAGE}`);
      const run = async (sink: BatchSink) => {
        const s = await ingestFile({ file, sink, stderr: process.stderr });
        console.log(
          `ingested ${s.events.toLocaleString("en-US")} events: ${s.accepted.toLocaleString("en-US")} accepted, ` +
            `${s.duplicates.toLocaleString("en-US")} duplicates, in ${s.seconds.toFixed(1)} s ` +
            `(${Math.round(s.events / Math.max(s.seconds, 0.001)).toLocaleString("en-US")} events/s)`,
        );
      };
      if (config.houstonUrl) await run(remoteBatchSink(config.houstonUrl, config.houstonToken));
      else
        await withStore(config, (store) => {
          const ingestor = new Ingestor(store);
          return run({ send: (events) => ingestor.apply(events) });
        });
      return 0;
    }
    case "run": {
      const parsed = parseRunArgs(args);
      let sink: RunSink;
      let close = async () => {};
      if (config.houstonUrl) sink = httpSink(config.houstonUrl, config.houstonToken);
      else {
        // Local store: opened lazily and only for the two writes, so a locked or
        // unreachable store delays nothing and the job still runs.
        // One shared promise: the start and end events never race to open the store.
        let opened: Promise<{ store: Store; ingestor: Ingestor }> | undefined;
        const open = async () => {
          const store = await openStore(
            config.databaseUrl
              ? { databaseUrl: config.databaseUrl, maxConnections: 1 }
              : { dataDir: config.dataDir },
          );
          await store.migrate();
          return { store, ingestor: new Ingestor(store) };
        };
        sink = {
          target: config.databaseUrl ? "DATABASE_URL" : config.dataDir,
          async send(events: HoustonEvent[]) {
            opened ??= open();
            await (await opened).ingestor.apply(events);
          },
        };
        close = async () => {
          if (opened) await (await opened.catch(() => undefined))?.store.close();
        };
      }
      try {
        return await runWrapped({ ...parsed, sink, stderr: process.stderr });
      } finally {
        await close().catch(() => {});
      }
    }
    case "ask": {
      const question = args.join(" ").trim();
      if (!question) {
        throw new UsageError(
          `houston ask needs a question, e.g. houston ask "did finance_close deploy?"\n\n${USAGE}`,
        );
      }
      // With HOUSTON_URL, the running Houston answers (its store may be the embedded one,
      // which only that process can open).
      if (config.houstonUrl) {
        console.log(await askRemote(config.houstonUrl, config.houstonToken, question, config.timezone));
        return 0;
      }
      console.log(
        await withStore(config, (store) =>
          askCommand(question, { store, now: new Date(), timezone: config.timezone }),
        ),
      );
      return 0;
    }
    case "monitors": {
      if (args[0] !== "run") throw new UsageError(`unknown: houston monitors ${args[0] ?? ""}\n\n${USAGE}`);
      const atArg = flag(args, "--at");
      const at = atArg ? new Date(atArg) : new Date();
      if (Number.isNaN(at.getTime()))
        throw new UsageError("--at needs an ISO instant, e.g. 2026-11-22T09:00:00Z");
      const file = loadHoustonFile(config.houstonConfigPath, config.timezone);
      const monitors = monitorConfig(file, {
        ...(config.alertChannel ? { alertChannel: config.alertChannel } : {}),
        ...(config.pagerduty.routingKey ? { routingKey: config.pagerduty.routingKey } : {}),
      });
      await withStore(config, async (store) => {
        if (args.includes("--dry-run")) {
          const breaches = await evaluate(store, at, monitors);
          for (const b of breaches) console.log(`${b.severity}\t${b.kind}\t${b.summary}`);
          console.log(`${breaches.length} breach(es) at ${at.toISOString()}`);
          return;
        }
        // No minute claim: an operator's explicit run; incident writes are still serialised.
        const s = await runMonitors(store, at, monitors, {
          replicaId: `cli:${hostname()}:${process.pid}`,
          claim: false,
        });
        console.log(
          `${s.breaches} breach(es) at ${s.at}: ${s.opened} opened, ${s.updated} updated, ${s.resolved} resolved, ` +
            `${s.silenced} silenced; ${s.outbox} notification(s) queued; evaluated in ${Math.round(s.evaluateMs)} ms`,
        );
      });
      return 0;
    }
    case "digest": {
      const parsed = parseDigestArgs(args);
      const file = loadHoustonFile(config.houstonConfigPath, config.timezone);
      const anomalies = digestAnomalySettings(file);
      return withStore(config, (store) =>
        digestCommand(parsed, {
          store,
          now: new Date(),
          timezone: config.timezone,
          // Logs go to stderr: stdout is the digest.
          log: createLogger(config.logLevel, process.stderr),
          out: (line) => console.log(line),
          ...(config.slack ? { client: digestSlackClient(config.slack.botToken, config.slack.apiUrl) } : {}),
          jobAnomalies: anomalies.jobs,
          ...(anomalies.defaults ? { anomalyDefaults: anomalies.defaults } : {}),
        }),
      );
    }
    case "demo": {
      const untilArg = flag(args, "--until");
      const daysArg = flag(args, "--days");
      const now = new Date();
      const until = untilArg
        ? new Date(`${untilArg}T00:00:00Z`)
        : new Date(`${now.toISOString().slice(0, 10)}T00:00:00Z`);
      if (Number.isNaN(until.getTime())) throw new UsageError(`--until ${untilArg}: expected YYYY-MM-DD`);
      const days = daysArg ? Number(daysArg) : 30;
      if (!Number.isInteger(days) || days < 15 || days > 120)
        throw new UsageError("--days must be a whole number from 15 to 120");
      const s = await withStore(config, (store) => seedDemo(store, { until, days, now }));
      console.log(
        `demo fleet seeded up to ${s.until}: ${s.jobs} jobs, ${s.events.toLocaleString("en-US")} events ` +
          `(${s.accepted.toLocaleString("en-US")} new, ${s.duplicates.toLocaleString("en-US")} already there)`,
      );
      console.log("planted stories:");
      for (const st of s.stories)
        console.log(`  ${st.day}  ${st.kind.padEnd(16)} ${st.subject}: ${st.detail}`);
      return 0;
    }
    default:
      throw new UsageError(`unknown command: ${cmd}\n\n${USAGE}`);
  }
}

/** Runs the CLI and exits: 2 for usage and input errors (with the fix), 1 for failures. */
export function cli(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      if (
        err instanceof UsageError ||
        err instanceof ConfigError ||
        err instanceof HoustonFileError ||
        err instanceof BadRecordError ||
        err instanceof StoreLockedError
      ) {
        console.error(`houston: ${err.message}`);
        process.exit(2);
      }
      console.error(`houston: ${(err as Error).message ?? err}`);
      process.exit(1);
    },
  );
}

// `node --import tsx src/cli/main.ts …` works as well as bin/houston.mjs.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  cli(process.argv.slice(2));
