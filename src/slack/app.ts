// Houston's Slack app (Bolt). Two transports, one app:
// - HTTP mode (no SLACK_APP_TOKEN): Slack POSTs slash commands, interactivity and events to
//   one URL, POST /slack/events, served by Houston's own HTTP server (mount()).
// - Socket Mode (SLACK_APP_TOKEN=xapp-…): Houston dials out over a WebSocket, no public URL
//   needed (start()/stop()).
// Either way the same listeners answer through the same question router.
import { App, HTTPModuleFunctions, HTTPReceiver, SocketModeReceiver, webApi } from "@slack/bolt";
import type { Logger } from "pino";
import type { SlackConfig } from "../config.ts";
import type { Store } from "../db/client.ts";
import type { HoustonServer } from "../http/server.ts";
import type { Metrics } from "../metrics.ts";
import type { Command } from "../questions/types.ts";
import { Answerer } from "./answer.ts";
import { describeSlackError } from "./errors.ts";
import { BotIdentity } from "./identity.ts";
import { registerListeners } from "./listeners/index.ts";
import { boltLogger } from "./logger.ts";
import { unreadableSlackBody, unreadableSlackPayload } from "./request-shape.ts";
import { UserTimezones } from "./timezones.ts";

/** Bolt's default endpoint: the Request URL for slash commands, interactivity and events alike. */
export const SLACK_EVENTS_PATH = "/slack/events";

/**
 * Web API retries for interactive answers: a few quick attempts, not the client's default
 * of ten over half an hour (nobody waits that long for an answer). On 429 the client first
 * waits the Retry-After Slack asked for, then retries.
 */
const RETRY = { retries: 3, factor: 2, minTimeout: 250, maxTimeout: 5_000, randomize: true };
/** One Web API request may take this long before it is retried. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Shutdown waits this long for answers in progress (main.ts exits hard after 10 s). */
const DRAIN_MS = 7_000;
/** …and this long for Slack to complete the WebSocket close handshake (Socket Mode). */
const CLOSE_MS = 2_000;

export interface SlackAppOptions {
  config: SlackConfig;
  commands: Command[];
  store: Store;
  log: Logger;
  /** HOUSTON_TIMEZONE: used when the asker's Slack time zone is unknown. */
  timezone: string;
  now?: () => Date;
  /**
   * HTTP mode: answer Slack's request only after the listener has finished. Off in
   * production (Slack wants the ack within 3 s); tests may turn it on.
   */
  processBeforeResponse?: boolean;
  /** How long an answer waits for users.info before using `timezone`. */
  userLookupTimeoutMs?: number;
  /** Called after an incident button enqueued outbox messages (the outbox worker's wake). */
  wakeOutbox?: () => void;
  metrics?: Metrics;
}

export interface SlackApp {
  readonly app: App;
  readonly mode: "http" | "socket";
  /** HTTP mode: routes POST /slack/events on Houston's server to Bolt. */
  mount(server: HoustonServer): void;
  /**
   * Socket Mode: connects, retrying transient failures with backoff until connected or
   * stopped; rejects only when Slack refuses the app token. Idempotent. HTTP mode: resolves
   * once the bot token has been checked (a failure is logged, never thrown).
   */
  start(): Promise<void>;
  /** Disconnects (Socket Mode) and waits a bounded time for answers in progress. */
  stop(): Promise<void>;
}

export function createSlackApp(opts: SlackAppOptions): SlackApp {
  const { config } = opts;
  const log = opts.log.child({ component: "slack" });
  const logger = boltLogger(log);
  const mode = config.appToken ? "socket" : "http";
  const clientOptions: webApi.WebClientOptions = {
    retryConfig: RETRY,
    timeout: REQUEST_TIMEOUT_MS,
    ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
  };
  // Bolt would call auth.test while being built (see identity.ts); this authorize never fails.
  const identity = new BotIdentity(() => app.client, config.botToken, log);
  const common = { authorize: identity.authorize, logger, clientOptions, convoStore: false as const };
  let receiver: HTTPReceiver | undefined;
  let socket: SocketModeReceiver | undefined;
  let app: App;
  if (config.appToken) {
    // Built here rather than by Bolt, to see when the socket has closed (stop()).
    socket = new SocketModeReceiver({
      appToken: config.appToken,
      logger,
      installerOptions: { clientOptions },
    });
    app = new App({ ...common, socketMode: true, receiver: socket });
  } else {
    receiver = new HTTPReceiver({
      signingSecret: config.signingSecret,
      endpoints: SLACK_EVENTS_PATH,
      processBeforeResponse: opts.processBeforeResponse ?? false,
      logger,
      // A signed body Bolt cannot read made it throw before any listener ran: answer 400, not
      // 500 (a 500 says Houston failed and invites a retry of the same body).
      processEventErrorHandler: async (args) => {
        const raw = (args.request as { rawBody?: Buffer }).rawBody;
        const reason = args.response.headersSent ? undefined : unreadableSlackBody(raw);
        if (reason === undefined) return HTTPModuleFunctions.defaultProcessEventErrorHandler(args);
        log.warn({ reason }, `refused a signed Slack request Houston cannot read (400): ${reason}`);
        args.response.writeHead(400);
        args.response.end();
        return true;
      },
    });
    app = new App({ ...common, receiver });
  }

  // Every listener run is tracked so shutdown can let answers in progress finish.
  const inflight = new Set<Promise<void>>();
  app.use(async (args) => {
    // Bolt routes some bodies no listener could use (an interaction whose user is a string):
    // acknowledged, so Slack does not retry, and ignored.
    const reason = unreadableSlackPayload(args.body);
    if (reason !== undefined) {
      log.warn({ reason }, `ignored a signed Slack request Houston cannot read: ${reason}`);
      if ("ack" in args && typeof args.ack === "function") await args.ack();
      return;
    }
    const run = args.next();
    inflight.add(run);
    try {
      await run;
    } finally {
      inflight.delete(run);
    }
  });
  app.error(async (error) => {
    const { code, hint } = describeSlackError(error);
    log.error({ err: error, code, ...(hint ? { hint } : {}) }, `Slack listener failed (${code})`);
  });

  const timezones = new UserTimezones({
    fallback: opts.timezone,
    log,
    ...(opts.userLookupTimeoutMs !== undefined ? { timeoutMs: opts.userLookupTimeoutMs } : {}),
  });
  const answerer = new Answerer({
    commands: opts.commands,
    store: opts.store,
    log,
    timezones,
    now: opts.now ?? (() => new Date()),
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  registerListeners(
    app,
    { answerer, home: { store: opts.store, now: opts.now ?? (() => new Date()), timezones, log } },
    {
      store: opts.store,
      now: opts.now ?? (() => new Date()),
      log,
      timezone: opts.timezone,
      wake: opts.wakeOutbox ?? (() => {}),
    },
  );

  let stopping = false;
  let connected = false;
  let starting: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(t);
        resolve();
      };
    });

  const connect = async (): Promise<void> => {
    void identity.refresh();
    for (let attempt = 1; !stopping; attempt++) {
      try {
        await app.start();
        if (stopping) {
          // stop() was called while connecting: close what just opened.
          await app.stop();
          return;
        }
        connected = true;
        log.info("Slack: connected in Socket Mode");
        return;
      } catch (err) {
        const { code, hint } = describeSlackError(err);
        if ((err as { code?: string }).code === webApi.ErrorCode.PlatformError) {
          // Slack answered and said no (invalid_auth, not_allowed_token_type…): retrying won't help.
          log.error(
            { code, hint: hint ?? "check SLACK_APP_TOKEN (xapp-…, scope connections:write)" },
            `Slack refused Socket Mode (${code}): fix SLACK_APP_TOKEN and restart Houston`,
          );
          throw err;
        }
        const retryInMs = Math.min(60_000, 1_000 * 2 ** Math.min(attempt, 6));
        log.error(
          { code, ...(hint ? { hint } : {}), attempt, retryInMs },
          `Slack Socket Mode could not connect (${code}); retrying in ${Math.round(retryInMs / 1000)} s`,
        );
        await pause(retryInMs);
      }
    }
  };

  return {
    app,
    mode,
    mount(server) {
      if (!receiver) throw new Error("mount() is for HTTP mode; in Socket Mode call start()");
      const listener = receiver.requestListener;
      server.route("POST", SLACK_EVENTS_PATH, async ({ req, res }) => listener(req, res));
      void identity.refresh();
    },
    start() {
      if (mode === "http") return identity.refresh();
      starting ??= connect();
      return starting;
    },
    async stop() {
      stopping = true;
      wake?.();
      if (connected && socket) {
        connected = false;
        // Bolt's stop() only sends the close frame; wait (bounded) for the close handshake.
        const closed = new Promise<void>((resolve) => {
          socket.client.once("disconnected", () => resolve());
          setTimeout(resolve, CLOSE_MS).unref();
        });
        await app.stop();
        await closed;
      }
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([
        Promise.allSettled([...inflight]).then(() => true),
        new Promise<false>((resolve) => {
          timer = setTimeout(() => resolve(false), DRAIN_MS);
        }),
      ]);
      clearTimeout(timer);
      if (!waited) log.warn({ inflight: inflight.size }, "stopped with Slack answers still in progress");
    },
  };
}
