// Houston's HTTP surface: a small router on node:http. Ingest, health and readiness live
// here; the Slack app, PagerDuty webhooks and metrics register their own routes.
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Logger } from "pino";
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
  /** Stop taking work: /readyz turns 503 and the listener closes; in-flight requests finish. */
  drain(): Promise<void>;
  readonly draining: boolean;
}

export function createHttpServer(log: Logger, ready: () => Promise<boolean>): HoustonServer {
  const routes = new Map<string, Handler>();
  let draining = false;
  const server = createServer((req, res) => {
    const requestId = (req.headers["x-request-id"] as string | undefined)?.slice(0, 100) || randomUUID();
    const started = performance.now();
    const path = (req.url ?? "/").split("?")[0]!;
    const rlog = log.child({ requestId, method: req.method, path });
    res.setHeader("x-request-id", requestId);
    res.on("finish", () => {
      const ms = Math.round((performance.now() - started) * 10) / 10;
      // Health probes every few seconds would drown the log.
      if (path === "/healthz" || path === "/readyz") return;
      rlog.info({ status: res.statusCode, ms }, "request");
    });
    const handler = routes.get(`${req.method} ${path}`);
    if (!handler) {
      const allowed = [...routes.keys()].filter((k) => k.endsWith(` ${path}`)).map((k) => k.split(" ")[0]);
      if (allowed.length) {
        res.setHeader("allow", allowed.join(", "));
        sendJson(res, 405, { error: `use ${allowed.join(" or ")} for ${path}` });
      } else sendJson(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
      return;
    }
    handler({ req, res, log: rlog, requestId }).catch((err: unknown) => {
      if (err instanceof HttpError) {
        if (!res.headersSent) sendJson(res, err.status, { error: err.message, ...err.body });
        // Refused bodies may still be streaming in: close rather than read them.
        if (err.status === 413) res.once("finish", () => req.destroy());
        return;
      }
      rlog.error({ err }, "request failed");
      if (!res.headersSent) sendJson(res, 500, { error: "internal error; see the Houston log", requestId });
      else res.destroy();
    });
  });
  // Slow clients must not hold a replica hostage during shutdown or a body flood.
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  server.keepAliveTimeout = 5_000;

  const hs: HoustonServer = {
    server,
    route(method, path, handler) {
      routes.set(`${method} ${path}`, handler);
    },
    async drain() {
      draining = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
    get draining() {
      return draining;
    },
  };
  hs.route("GET", "/healthz", async ({ res }) => sendJson(res, 200, { ok: true }));
  hs.route("GET", "/readyz", async ({ res }) => {
    if (draining) return sendJson(res, 503, { ready: false, reason: "draining (shutting down)" });
    const ok = await ready();
    sendJson(
      res,
      ok ? 200 : 503,
      ok ? { ready: true } : { ready: false, reason: "database unreachable or not migrated" },
    );
  });
  return hs;
}
