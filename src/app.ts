// Builds a running Houston from a Config: store → migrations → houston.yml → HTTP routes →
// periodic maintenance. main.ts calls it for production; tests call it with any config.
import cron from "node-cron";
import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { openStore, type Store } from "./db/client.ts";
import { pruneHistory } from "./db/retention.ts";
import { flushAllRollups } from "./db/rollup.ts";
import { extendSlots, syncConfigDatasets, syncConfigJobs } from "./db/schedules.ts";
import { loadHoustonFile } from "./houston-yml.ts";
import { createHttpServer, type HoustonServer } from "./http/server.ts";
import { Ingestor } from "./ingest/apply.ts";
import { registerIngestRoutes } from "./ingest/routes.ts";
import { loadCommands } from "./questions/registry.ts";
import type { Command } from "./questions/types.ts";
import { createSlackApp, SLACK_EVENTS_PATH, type SlackApp } from "./slack/app.ts";

export interface App {
  store: Store;
  http: HoustonServer;
  ingestor: Ingestor;
  /** The question families (commands/), loaded once. */
  commands: Command[];
  /** The Slack app, when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set. */
  slack?: SlackApp;
  /** Resolves with the bound port once listening. */
  listen(port?: number): Promise<number>;
  /** One maintenance pass: extend slots, flush leftover rollups, prune (what the cron ticks run). */
  maintain(now?: Date): Promise<void>;
  stop(): Promise<void>;
}

export interface AppOptions {
  config: Config;
  log: Logger;
  /** Injected clock (tests); defaults to the wall clock. */
  now?: () => Date;
  /** Start node-cron ticks (off in most tests, which call maintain() themselves). */
  schedule?: boolean;
  /** An already-open store (tests share one); otherwise one is opened from config. */
  store?: Store;
  /** Question families to use instead of loading commands/ (tests). */
  commands?: Command[];
}

export async function createApp(opts: AppOptions): Promise<App> {
  const { config, log } = opts;
  const now = opts.now ?? (() => new Date());
  // Validate houston.yml before touching the database: a typo should fail fast and clearly.
  const houstonFile = loadHoustonFile(config.houstonConfigPath, config.timezone);
  // Likewise a broken question family fails startup, not the first question.
  const commands = opts.commands ?? (await loadCommands());
  const store =
    opts.store ??
    (await openStore(config.databaseUrl ? { databaseUrl: config.databaseUrl } : { dataDir: config.dataDir }));
  await store.migrate();
  log.info(
    { store: store.kind, ...(store.kind === "pglite" ? { dataDir: config.dataDir } : {}) },
    store.kind === "pglite"
      ? "using the embedded PGlite store (set DATABASE_URL to use PostgreSQL in production)"
      : "using PostgreSQL",
  );
  if (houstonFile.path) {
    // Always synced (even when empty) so entries removed from the file are removed here too.
    const changed = await syncConfigJobs(store, houstonFile.jobs, now());
    await syncConfigDatasets(store, houstonFile.datasets);
    log.info(
      {
        file: houstonFile.path,
        jobs: houstonFile.jobs.length,
        datasets: houstonFile.datasets.length,
        schedulesChanged: changed,
      },
      "houston.yml applied",
    );
  }
  const ingestor = new Ingestor(store);
  const http = createHttpServer(log, () => store.ready());
  registerIngestRoutes(http, { tokens: config.ingestTokens, maxBodyBytes: config.maxBodyBytes, ingestor });
  if (config.ingestTokens.length === 0) {
    log.warn("ingest API is off: set HOUSTON_INGEST_TOKENS=<long random token>[,<another>] to accept events");
  }
  let slack: SlackApp | undefined;
  if (config.slack) {
    slack = createSlackApp({ config: config.slack, commands, store, log, timezone: config.timezone, now });
    if (slack.mode === "http") {
      slack.mount(http);
      log.info({ path: SLACK_EVENTS_PATH }, `Slack: HTTP mode, requests at POST ${SLACK_EVENTS_PATH}`);
    } else {
      log.info("Slack: Socket Mode (SLACK_APP_TOKEN is set), connecting");
      // Connecting must not hold up ingest: connect() logs and retries by itself.
      slack.start().catch((err: unknown) => log.error({ err }, "Slack is off: Socket Mode could not start"));
    }
  } else {
    log.info(
      "Slack is off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (and SLACK_APP_TOKEN for Socket Mode) to enable it",
    );
  }

  let lastPrune = 0;
  const maintain = async (at = now()) => {
    await extendSlots(store, at);
    if (at.getTime() - lastPrune > 3_600_000) {
      lastPrune = at.getTime();
      const deleted = await pruneHistory(store, at, config.retentionDays);
      if (Object.values(deleted).some((n) => n > 0)) log.info({ deleted }, "retention: pruned old history");
    }
    await flushAllRollups(store);
  };
  const tasks: ReturnType<typeof cron.schedule>[] = [];
  let inflight: Promise<void> | undefined;
  if (opts.schedule) {
    // Every replica may run this: each step is idempotent and batch-bounded.
    tasks.push(
      cron.schedule("*/5 * * * *", () => {
        if (inflight) return;
        inflight = maintain()
          .catch((err: unknown) => log.error({ err }, "maintenance failed; retrying at the next tick"))
          .finally(() => {
            inflight = undefined;
          });
      }),
    );
  }

  return {
    store,
    http,
    ingestor,
    commands,
    ...(slack ? { slack } : {}),
    maintain,
    listen(port = config.port) {
      return new Promise((resolve, reject) => {
        http.server.once("error", reject);
        http.server.listen(port, () => {
          const addr = http.server.address();
          resolve(typeof addr === "object" && addr ? addr.port : port);
        });
      });
    },
    async stop() {
      for (const t of tasks) t.stop();
      if (http.server.listening) await http.drain();
      // After the drain no question arrives; answers already acked finish before the store closes.
      if (slack) await slack.stop();
      if (inflight) await inflight;
      if (!opts.store) await store.close();
    },
  };
}
