// Composition root for `npm start`: config → logger → app → listen; SIGTERM drains.
import { createApp } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { HoustonFileError } from "./houston-yml.ts";
import { createLogger } from "./log.ts";

async function main(): Promise<void> {
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
  let app: Awaited<ReturnType<typeof createApp>>;
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
  const port = await app.listen();
  log.info({ port }, `Houston is listening on :${port}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    const started = performance.now();
    log.info({ signal }, "shutting down: not ready, finishing requests, answers and deliveries in flight");
    const hard = setTimeout(() => {
      log.error("shutdown took over 10 s; exiting anyway");
      process.exit(1);
    }, 10_000);
    hard.unref();
    app.stop().then(
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
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((err: unknown) => {
  console.error("houston: failed to start:", err);
  process.exit(1);
});
