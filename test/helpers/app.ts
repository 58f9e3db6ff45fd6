// Starts the real Houston HTTP app on 127.0.0.1 with a fresh store, for integration tests.
import { type App, createApp } from "../../src/app.ts";
import { type Config, loadConfig } from "../../src/config.ts";
import type { Command } from "../../src/questions/types.ts";
import { testLogger } from "./log.ts";
import { openTestStore, type StoreKind, type TestStore } from "./store.ts";

export const TEST_TOKEN = "test-ingest-token-0123456789";

export interface TestApp {
  app: App;
  store: TestStore;
  url: string;
  logs: string[];
  post(
    path: string,
    body: string | object,
    headers?: Record<string, string>,
  ): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export async function startTestApp(
  kind: StoreKind,
  env: Record<string, string> = {},
  opts: {
    now?: () => Date;
    /** Use this store (e.g. a demo-seeded one) instead of a fresh one; the caller disposes it. */
    store?: TestStore;
    /** Question families instead of commands/. */
    commands?: Command[];
  } = {},
): Promise<TestApp> {
  const ownStore = !opts.store;
  const store = opts.store ?? (await openTestStore(kind));
  const config: Config = loadConfig({ HOUSTON_INGEST_TOKENS: TEST_TOKEN, LOG_LEVEL: "info", ...env });
  const { log, raw: logs } = testLogger(process.env["TEST_LOG_LEVEL"] ?? "info");
  const app = await createApp({
    config,
    log,
    store,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.commands ? { commands: opts.commands } : {}),
  });
  const port = await app.listen(0);
  const url = `http://127.0.0.1:${port}`;
  return {
    app,
    store,
    url,
    logs,
    async post(path, body, headers = {}) {
      const res = await fetch(url + path, {
        method: "POST",
        headers: { authorization: `Bearer ${TEST_TOKEN}`, "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // keep text
      }
      return { status: res.status, body: parsed };
    },
    async close() {
      await app.stop();
      if (ownStore) await store.dispose();
    },
  };
}
