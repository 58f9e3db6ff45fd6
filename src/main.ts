// Composition root for `npm start`: config → logger → app → listen; SIGTERM drains.
import { type App, createApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { HoustonFileError } from "./houston-yml.ts";
import { createLogger } from "./log.ts";

/**
 * The shutdown's bound: past it, Houston closes the store as best it can (LAST_CLOSE_MS) and
 * exits 1, so the process is gone within 10 s of the signal whatever is still running.
 */
const HARD_DEADLINE_MS = 8_500;
/** How long closing the store may take once the deadline has passed. */
const LAST_CLOSE_MS = 1_000;

/** Why the listener could not be opened, in one line naming the setting to change. */
function listenFailure(err: NodeJS.ErrnoException, port: number, host: string | undefined): string {
  const where = host ? `${host}:${port}` : `port ${port}`;
  switch (err.code) {
    case "EADDRINUSE":
      return `houston: ${where} is already in use (PORT=${port}${host ? `, HOUSTON_HOST=${host}` : ""}); stop what is listening there or set PORT to a free port`;
    case "EACCES":
      return `houston: not allowed to listen on ${where} (PORT=${port}); ports below 1024 need privileges, so set PORT to 1024 or above`;
    case "EADDRNOTAVAIL":
      return `houston: cannot listen on ${where}: no interface of this machine has that address (HOUSTON_HOST=${host ?? ""}); set HOUSTON_HOST to one of its addresses, or leave it unset for all`;
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return `houston: cannot listen on ${where}: HOUSTON_HOST=${host ?? ""} does not resolve; use an IP address`;
    default:
      return `houston: cannot listen on ${where} (PORT=${port}): ${err.message}`;
  }
}

async function main(): Promise<void> {
  // A closed stdout or stderr (`houston | head`, the reader killed) must not crash Houston or
  // its shutdown: console writes then fail with EPIPE, which is nothing to act on. Log lines
  // go through src/log.ts's sink, which handles it on its own.
  for (const stream of [process.stdout, process.stderr]) stream.on("error", () => {});
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`houston: configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  // Signals are handled from here on, before anything is opened or logged as ready: a
  // SIGTERM sent the moment the "listening" line is read (or during startup) must stop
  // Houston the orderly way, not kill it with the store open.
  let app: App | undefined;
  let signalled: { signal: string; at: number } | undefined;
  let stopping = false;
  const stop = () => {
    if (!signalled || !app || stopping) return;
    stopping = true;
    const started = signalled.at;
    void app.stop().then(
      () => {
        log.info({ ms: Math.round(performance.now() - started) }, "stopped");
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, "error while stopping");
        process.exit(1);
      },
    );
  };
  const onSignal = (signal: string) => {
    if (signalled) return;
    signalled = { signal, at: performance.now() };
    log.info({ signal }, "shutting down: not ready, finishing requests, answers and deliveries in flight");
    const hard = setTimeout(() => {
      log.error(
        { ms: HARD_DEADLINE_MS },
        "shutdown is taking too long; closing the store and exiting anyway",
      );
      // Still close the store (the embedded one holds a lock and half-written pages), but
      // never wait on it for long: exiting in bounded time comes first.
      const close = app ? app.store.close().catch(() => {}) : Promise.resolve();
      const bound = new Promise((resolve) => setTimeout(resolve, LAST_CLOSE_MS).unref());
      void Promise.race([close, bound]).then(() => process.exit(1));
    }, HARD_DEADLINE_MS);
    hard.unref();
    // Before the app exists (still starting), it stops as soon as it does.
    stop();
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));

  try {
    app = await createApp({ config, log, schedule: true });
  } catch (err) {
    if (err instanceof HoustonFileError) {
      log.fatal({ problems: err.problems }, err.message);
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  if (signalled) return stop();
  let port: number;
  try {
    port = await app.listen();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code !== "string") throw err;
    // One line, no stack: the cause is a setting, not a bug. The store is closed first so
    // the embedded one is not left locked.
    const line = listenFailure(e, config.port, config.host);
    log.fatal({ code: e.code, port: config.port, host: config.host }, line);
    await app.stop().catch(() => {});
    console.error(line);
    process.exit(1);
  }
  if (signalled) return stop();
  log.info({ port, host: config.host ?? "*" }, `Houston is listening on ${config.host ?? ""}:${port}`);
}

main().catch((err: unknown) => {
  console.error("houston: failed to start:", err);
  process.exit(1);
});
