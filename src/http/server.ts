// Houston's HTTP surface: a small router on node:http. Ingest, health and readiness live
// here; the Slack app, PagerDuty webhooks and metrics register their own routes.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
import { within } from "../deadline.ts";
import { HttpError, sendJson } from "./body.ts";

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  log: Logger;
  requestId: string;
}

export type Handler = (ctx: RequestContext) => Promise<void>;

export interface HoustonServer {
  server: Server;
  route(method: string, path: string, handler: Handler): void;
  /**
   * Stop taking work: /readyz and every new request are answered 503 (the listener stays
   * open, so probes see "not ready" rather than a refused connection). Resolves true once
   * the requests already running have finished, false if some still run after timeoutMs.
   */
  quiesce(timeoutMs?: number): Promise<boolean>;
  /** quiesce(), then close the listener and cut whatever connection is left. */
  drain(timeoutMs?: number): Promise<void>;
  readonly draining: boolean;
}

export interface HttpServerOptions {
  /** Called once per finished request (metrics); route is the registered path or "unmatched". */
  observe?: (method: string, route: string, status: number, seconds: number) => void;
  /**
   * True for a failure that means "the database cannot be reached now": answered 503 with
   * Retry-After (the client's retry will work once it is back) instead of 500.
   */
  isUnavailable?: (err: unknown) => boolean;
  /** Seconds a client is told to wait after such a 503. */
  unavailableRetryAfterS?: number;
  /** The ingest routes' body deadline (HOUSTON_BODY_TIMEOUT): Node's own request timeout stays above it. */
  bodyTimeoutMs?: number;
}

/** GET / : what this is and where to go, for whoever opens the README's first link. */
const ABOUT =
  "Houston: DataOps mission control in Slack. It keeps a run history of data jobs, datasets, tests and deploys, answers questions about them, opens incidents and posts digests.";

/** How long drain() lets in-flight requests run before cutting their connections. */
const DRAIN_TIMEOUT_MS = 5_000;
/** /readyz answers within a second whatever the store does: probes time out at 1 s. */
const READYZ_TIMEOUT_MS = 900;
/** Probes and scrapes arrive every few seconds: logged at debug so they don't drown the log. */
const QUIET_PATHS = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * The caller's X-Request-Id when it is a sane token (so a proxy's id follows the request
 * through Houston's log), else a fresh one. Anything else is replaced rather than echoed:
 * it goes back out in a response header and into every log line of the request.
 */
export function correlationId(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given && /^[A-Za-z0-9._:@/+=-]{1,128}$/.test(given) ? given : randomUUID();
}

export function createHttpServer(
  log: Logger,
  ready: () => Promise<boolean>,
  opts: HttpServerOptions = {},
): HoustonServer {
  const routes = new Map<string, Handler>();
  let draining = false;
  /** Requests taken on (not refused) and not yet answered; quiesce() waits for them. */
  let working = 0;
  let idle: (() => void) | undefined;
  const server = createServer((req, res) => {
    const requestId = correlationId(req.headers["x-request-id"]);
    const started = performance.now();
    const path = (req.url ?? "/").split("?")[0]!;
    const rlog = log.child({ requestId, method: req.method, path });
    res.setHeader("x-request-id", requestId);
    const key = `${req.method} ${path}`;
    res.on("finish", () => {
      const seconds = (performance.now() - started) / 1000;
      opts.observe?.(req.method ?? "?", routes.has(key) ? path : "unmatched", res.statusCode, seconds);
      const line = { status: res.statusCode, ms: Math.round(seconds * 10_000) / 10 };
      if (QUIET_PATHS.has(path) && res.statusCode < 400) rlog.debug(line, "request");
      else rlog.info(line, "request");
    });
    if (draining) {
      // A request on a kept-alive connection after SIGTERM: refuse new work, close the connection.
      res.setHeader("connection", "close");
      if (path === "/readyz") return sendJson(res, 503, { ready: false, reason: "draining (shutting down)" });
      if (path !== "/healthz") return sendJson(res, 503, { error: "Houston is shutting down; retry" });
    }
    working++;
    res.once("close", () => {
      if (--working === 0) idle?.();
    });
    const handler = routes.get(key);
    if (!handler) {
      const allowed = [...routes.keys()].filter((k) => k.endsWith(` ${path}`)).map((k) => k.split(" ")[0]);
      if (allowed.length) {
        res.setHeader("allow", allowed.join(", "));
        sendJson(res, 405, { error: `use ${allowed.join(" or ")} for ${path}` });
      } else sendJson(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
      return;
    }
    handler({ req, res, log: rlog, requestId }).catch((err: unknown) => {
      // A body not read to its end (refused, timed out, over budget) may still be streaming
      // in, slowly: close the connection after answering rather than wait to read it.
      if (!req.complete && !res.headersSent) {
        res.setHeader("connection", "close");
        res.once("finish", () => req.destroy());
      }
      if (err instanceof HttpError) {
        if (!res.headersSent) sendJson(res, err.status, { error: err.message, ...err.body }, err.headers);
        return;
      }
      if (opts.isUnavailable?.(err)) {
        rlog.warn({ err }, "request failed: the database is unreachable");
        const retryAfter = opts.unavailableRetryAfterS ?? 5;
        if (!res.headersSent)
          sendJson(
            res,
            503,
            { error: "the database is unreachable; retry later", retry_after_seconds: retryAfter, requestId },
            { "retry-after": String(retryAfter) },
          );
        else res.destroy();
        return;
      }
      rlog.error({ err }, "request failed");
      if (!res.headersSent) sendJson(res, 500, { error: "internal error; see the Houston log", requestId });
      else res.destroy();
    });
  });
  // Slow clients must not hold a replica hostage during shutdown or a body flood. The ingest
  // routes give up on a body sooner, with a clearer 408 (HOUSTON_BODY_TIMEOUT).
  server.requestTimeout = Math.max(60_000, (opts.bodyTimeoutMs ?? 0) + 10_000);
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 5_000;

  const hs: HoustonServer = {
    server,
    route(method, path, handler) {
      routes.set(`${method} ${path}`, handler);
    },
    async quiesce(timeoutMs = DRAIN_TIMEOUT_MS) {
      draining = true;
      // Idle kept-alive connections are left open on purpose: closing them races a client
      // (a load balancer's probe) that is sending on one at that moment, which then sees a
      // reset instead of an answer. Their next request gets a 503 with `connection: close`
      // (above), and drain() closes whatever is left.
      if (working === 0) return true;
      let timer: NodeJS.Timeout | undefined;
      const done = await new Promise<boolean>((resolve) => {
        idle = () => resolve(true);
        timer = setTimeout(() => resolve(false), timeoutMs);
      });
      clearTimeout(timer);
      idle = undefined;
      if (!done) log.warn({ timeoutMs, running: working }, "shutdown: HTTP requests still running");
      return done;
    },
    async drain(timeoutMs = DRAIN_TIMEOUT_MS) {
      await hs.quiesce(timeoutMs);
      if (!server.listening) return;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
    get draining() {
      return draining;
    },
  };
  hs.route("GET", "/", async ({ res }) =>
    sendJson(res, 200, {
      service: "houston",
      about: ABOUT,
      health: { liveness: "/healthz", readiness: "/readyz" },
      routes: [...routes.keys()].sort((a, b) => a.split(" ")[1]!.localeCompare(b.split(" ")[1]!)),
    }),
  );
  hs.route("GET", "/healthz", async ({ res }) => sendJson(res, 200, { ok: true }));
  hs.route("GET", "/readyz", async ({ res }) => {
    if (draining) return sendJson(res, 503, { ready: false, reason: "draining (shutting down)" });
    const ok = await within(ready(), READYZ_TIMEOUT_MS);
    sendJson(
      res,
      ok ? 200 : 503,
      ok
        ? { ready: true }
        : { ready: false, reason: "database unreachable, not answering within 1 s, or not migrated" },
    );
  });
  return hs;
}
