// Builds a running Houston from a Config: store → migrations → houston.yml → HTTP routes →
// periodic maintenance. main.ts calls it for production; tests call it with any config.
import type { Agent } from "node:https";
import { hostname } from "node:os";
import cron from "node-cron";
import type { Logger } from "pino";
import type { Config } from "./config.ts";
import { openStore, type Store } from "./db/client.ts";
import { pruneHistory } from "./db/retention.ts";
import { RollupFlusher } from "./db/rollup.ts";
import { isStoreUnavailable, STORE_RETRY_AFTER_S } from "./db/unavailable.ts";
import { extendSlots, syncConfigDatasets, syncConfigJobs } from "./db/schedules.ts";
import { digestAnomalySettings, loadHoustonFile, monitorConfig } from "./houston-yml.ts";
import { createHttpServer, type HoustonServer } from "./http/server.ts";
import { Ingestor } from "./ingest/apply.ts";
import { registerIngestRoutes } from "./ingest/routes.ts";
import { registerAskRoute } from "./questions/ask-route.ts";
import { createMetrics, type Metrics, registerMetricsRoute } from "./metrics.ts";
import { applyPagerDutyChange } from "./monitors/incidents.ts";
import { runMonitors } from "./monitors/runner.ts";
import { digestSlackClient, reportLoader } from "./digests/deliver.ts";
import { DigestScheduler } from "./digests/scheduler.ts";
import { syncConfigSubscriptions } from "./digests/subscriptions.ts";
import { OutboxWorker } from "./outbox/worker.ts";
import { createPagerDutyHandler } from "./pagerduty/events.ts";
import { registerPagerDutyWebhook, WEBHOOK_PATH } from "./pagerduty/webhook.ts";
import { loadCommands } from "./questions/registry.ts";
import type { Command } from "./questions/types.ts";
import { createSlackApp, SLACK_EVENTS_PATH, type SlackApp } from "./slack/app.ts";
import { createSlackIncidentHandler, incidentWebClient } from "./slack/incident-delivery.ts";

export interface App {
  store: Store;
  http: HoustonServer;
  ingestor: Ingestor;
  /** This app's Prometheus registry and instruments (GET /metrics). */
  metrics: Metrics;
  /** The question families (commands/), loaded once. */
  commands: Command[];
  /** The Slack app, when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set. */
  slack?: SlackApp;
  /** Delivers outbox rows: PagerDuty events, and Slack incident messages when Slack is configured. */
  outbox: OutboxWorker;
  /** Scheduled digests: tick(at) claims due slots and delivers them (what the minute cron runs). */
  digests: DigestScheduler;
  /** One monitor evaluation at an instant (what the minute tick runs; claims the minute). */
  monitor(at?: Date): ReturnType<typeof runMonitors>;
  /** Resolves with the bound port once listening (on HOUSTON_HOST, or every interface). */
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
  /** TLS trust for PagerDuty's Events API beyond the system CAs (tests: the fake's CA). */
  pagerdutyAgent?: Agent;
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
    (await openStore(
      config.databaseUrl
        ? { databaseUrl: config.databaseUrl }
        : {
            dataDir: config.dataDir,
            onImageError: (err) =>
              log.warn(
                { err },
                "the build's image of a migrated store could not be loaded; creating the store without it",
              ),
          },
    ));
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
  if (houstonFile.path) {
    // Like jobs: synced even when empty, so a digest removed from the file is unsubscribed.
    const subs = await syncConfigSubscriptions(store, houstonFile.subscriptions ?? [], now());
    log.info({ file: houstonFile.path, ...subs }, "houston.yml digest subscriptions applied");
  }
  const rollups = new RollupFlusher(
    store,
    (err) => log.error({ err }, "rollup flush failed; the marks stay and the next flush retries"),
    undefined,
    (key, err) =>
      log.error(
        { err, ...key },
        "this job-day's runs cannot be rolled up; it was skipped so the others could",
      ),
  );
  const ingestor = new Ingestor(store, rollups);
  const metrics = createMetrics({ store, log, now });
  const http = createHttpServer(log, () => store.ready(), {
    observe: (method, route, status, seconds) =>
      metrics.httpSeconds.observe({ method, route, status: String(status) }, seconds),
    isUnavailable: isStoreUnavailable,
    unavailableRetryAfterS: STORE_RETRY_AFTER_S,
    bodyTimeoutMs: config.bodyTimeoutMs,
  });
  registerMetricsRoute(http, metrics, config.metricsToken);
  registerIngestRoutes(http, {
    tokens: config.ingestTokens,
    maxBodyBytes: config.maxBodyBytes,
    bodyTimeoutMs: config.bodyTimeoutMs,
    bodyMemoryBytes: config.bodyMemoryBytes,
    ready: (ms) => store.ready(ms),
    ...(store.kind === "pglite" ? { maxConcurrentLarge: 1 } : {}),
    ingestor,
    metrics,
  });
  if (config.ingestTokens.length === 0) {
    log.warn("ingest API is off: set HOUSTON_INGEST_TOKENS=<long random token>[,<another>] to accept events");
  }
  registerAskRoute(http, {
    tokens: config.askTokens,
    commands,
    store,
    timezone: config.timezone,
    now,
    log,
  });
  let slack: SlackApp | undefined;
  if (config.slack) {
    slack = createSlackApp({
      config: config.slack,
      commands,
      store,
      log,
      timezone: config.timezone,
      now,
      metrics,
      // A button click enqueues the message update: deliver it now, not at the next tick.
      wakeOutbox: () => outbox.wake(),
    });
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

  const replicaId = `${hostname()}:${process.pid}`;
  const monitors = monitorConfig(houstonFile, {
    ...(config.alertChannel ? { alertChannel: config.alertChannel } : {}),
    ...(config.pagerduty.routingKey ? { routingKey: config.pagerduty.routingKey } : {}),
  });
  // Without Slack configured, incident messages wait in the outbox, recorded, until it is.
  const outbox = new OutboxWorker({
    store,
    log,
    now,
    replicaId,
    metrics,
    handlers: {
      pagerduty: createPagerDutyHandler({
        server: config.pagerduty.eventsServer,
        ...(opts.pagerdutyAgent ? { agent: opts.pagerdutyAgent } : {}),
      }),
      // Incident posts, updates and reminders (src/monitors/incidents.ts enqueues them).
      ...(config.slack
        ? {
            slack: createSlackIncidentHandler({
              client: incidentWebClient(config.slack, log),
              store,
              timezone: config.timezone,
              now,
            }),
          }
        : {}),
    },
  });
  if (config.pagerduty.webhookSecrets.length > 0) {
    registerPagerDutyWebhook(http, {
      store,
      log,
      secrets: config.pagerduty.webhookSecrets,
      onIncidentChange: async (change) => {
        const r = await applyPagerDutyChange(store, change);
        outbox.wake();
        return r;
      },
    });
    log.info({ path: WEBHOOK_PATH }, `PagerDuty webhooks: POST ${WEBHOOK_PATH}`);
  } else {
    log.info("PagerDuty webhooks are off: set PAGERDUTY_WEBHOOK_SECRET to the V3 subscription's secret");
  }
  if (!config.pagerduty.routingKey && !houstonFile.defaults?.routingKey) {
    log.info("PagerDuty paging is off: set PAGERDUTY_ROUTING_KEY (or routing_key in houston.yml) to page");
  }
  const monitor = async (at = now()) => {
    const summary = await runMonitors(store, at, monitors, { replicaId });
    // Reminders are outbox rows too (counted apart from the evaluation's own).
    if (summary.outbox > 0 || summary.reminders > 0) outbox.wake();
    return summary;
  };

  const anomalySettings = digestAnomalySettings(houstonFile);
  const digests = new DigestScheduler({
    store,
    log,
    now,
    replicaId,
    reports: reportLoader(),
    catchupMs: config.digestCatchupMs,
    jobAnomalies: anomalySettings.jobs,
    ...(anomalySettings.defaults ? { anomalyDefaults: anomalySettings.defaults } : {}),
    // Its own client: digest retries are recorded in digest_deliveries, not hidden in the client.
    ...(config.slack ? { client: digestSlackClient(config.slack.botToken, config.slack.apiUrl) } : {}),
  });
  let digestsInflight: Promise<void> | undefined;
  const tickDigests = () => {
    if (digestsInflight || !config.slack) return;
    digestsInflight = digests
      .tick()
      .then((s) => {
        if (s.claimed || s.skipped || s.deliveries.length) log.info({ digests: s }, "digests: tick");
      })
      .catch((err: unknown) => log.error({ err }, "digests failed; the next minute retries"))
      .finally(() => {
        digestsInflight = undefined;
      });
  };

  let lastPrune = 0;
  const maintain = async (at = now()) => {
    await extendSlots(store, at);
    if (at.getTime() - lastPrune > 3_600_000) {
      lastPrune = at.getTime();
      const deleted = await pruneHistory(store, at, config.retentionDays);
      if (Object.values(deleted).some((n) => n > 0)) log.info({ deleted }, "retention: pruned old history");
    }
    await rollups.flush();
  };
  const tasks: ReturnType<typeof cron.schedule>[] = [];
  let inflight: Promise<void> | undefined;
  let monitorsInflight: Promise<void> | undefined;
  if (opts.schedule) {
    outbox.start(1_000);
    // At start: digests missed while Houston was down are sent (within HOUSTON_DIGEST_CATCHUP) or skipped.
    tickDigests();
    // Every replica ticks; runMonitors claims the minute in the database, so one evaluates.
    tasks.push(
      cron.schedule("* * * * *", () => {
        tickDigests();
        if (monitorsInflight) return;
        monitorsInflight = monitor()
          .then((s) => {
            // One line per evaluation, by the replica that claimed the minute; the minute is
            // the correlation id that its incidents' and deliveries' lines can be matched on.
            if (!s.claimed) log.debug({ at: s.at }, "monitors: minute claimed by another replica");
            else
              log.info(
                { correlationId: `monitors:${s.at}`, monitors: s },
                s.opened || s.resolved ? "monitors: evaluated; incidents changed" : "monitors: evaluated",
              );
          })
          .catch((err: unknown) => log.error({ err }, "monitors failed; the next minute retries"))
          .finally(() => {
            monitorsInflight = undefined;
          });
      }),
    );
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
    metrics,
    commands,
    ...(slack ? { slack } : {}),
    outbox,
    digests,
    monitor,
    maintain,
    listen(port = config.port) {
      return new Promise((resolve, reject) => {
        http.server.once("error", reject);
        const listening = () => {
          http.server.off("error", reject);
          const addr = http.server.address();
          resolve(typeof addr === "object" && addr ? addr.port : port);
        };
        if (config.host) http.server.listen(port, config.host, listening);
        else http.server.listen(port, listening);
      });
    },
    async stop() {
      for (const t of tasks) t.stop();
      // The parts wind down side by side, so the slowest, not their sum, bounds the shutdown
      // (main.ts closes the store and exits after 8.5 s regardless): HTTP requests get 2.5 s
      // and then the Slack answers they started up to 7 s; outbox deliveries in flight 5 s
      // (claimed rows not yet started are released at once); ticks in progress finish. Then
      // the store closes.
      // /readyz answers 503 until the very end, so probes see the replica leave.
      const httpThenSlack = async () => {
        if (http.server.listening) await http.quiesce(2_500);
        // After the drain no question arrives; answers already acked finish before the store closes.
        if (slack) await slack.stop();
      };
      await Promise.all([httpThenSlack(), outbox.stop(5_000), inflight, monitorsInflight, digestsInflight]);
      if (http.server.listening) await http.drain(0);
      // Requests are done: let their rollup flush finish (marks left behind survive anyway).
      await rollups.idle();
      if (!opts.store) await store.close();
    },
  };
}
