// PagerDuty V3 webhooks: POST /webhooks/pagerduty. When someone acknowledges or resolves a
// Houston page in PagerDuty, Houston's incident (and its Slack message) follows.
//
// PagerDuty's rules decide the status codes: it retries 5xx, 429 and timeouts (answer within
// 5 s), drops any other 4xx, and disables the subscription after 3 dropped webhooks in a row.
// So: a forged or unsigned request → 401 (dropping it is right); anything that might work on
// a retry (database down, slow) → 5xx; everything we understand but ignore → 200.
//
// De-duplication: on the event's id in the signed body (event.id, the same on every retry of
// one webhook), or a hash of the signed body when it has none. Not on X-Webhook-Id: headers
// are not signed, so a captured webhook replayed with a new X-Webhook-Id was applied again.
// The id is recorded in webhook_deliveries only after the change was applied, so a failure is
// retried; a retry of an applied webhook answers 200 "duplicate". Two copies arriving at the
// same instant may both be applied, which is harmless: an acknowledge or resolve applied
// twice lands in the same state.
//
// Which incident: for incidents opened through the Events API, event.data.incident_key is the
// dedup_key Houston sent (see PagerDuty's V3 webhook docs, "incident" data type); a key that
// dedupKeyFor() hashed is mapped back to the Houston key. data.dedup_key and
// data.alert.dedup_key are read too, in case PagerDuty adds or moves the field.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import type { Store } from "../db/client.ts";
import { readBody, sendJson } from "../http/body.ts";
import type { HoustonServer } from "../http/server.ts";
import { incidentKeyForDedupKey } from "./events.ts";

export const WEBHOOK_PATH = "/webhooks/pagerduty";
const MAX_BODY_BYTES = 1024 * 1024;

export interface IncidentChange {
  /** The Houston incident key. */
  key: string;
  state: "acknowledged" | "resolved";
  /** Who did it in PagerDuty (the user's name), or "PagerDuty" when it was automatic. */
  by: string;
  at: Date;
}

export interface PagerDutyWebhookOptions {
  store: Store;
  /** Webhook subscription secrets (PAGERDUTY_WEBHOOK_SECRET, comma-separated while rotating). */
  secrets: string[];
  /** Applies the change; "unknown" when no Houston incident has that key. */
  onIncidentChange(change: IncidentChange): Promise<"updated" | "unknown">;
  log: Logger;
  /** Injected clock for a change without occurred_at (tests). */
  now?: () => Date;
  /** Past this, answer 503 so PagerDuty retries rather than times out. Default 4 s. */
  processingTimeoutMs?: number;
}

const STATES: Record<string, IncidentChange["state"]> = {
  "incident.acknowledged": "acknowledged",
  "incident.resolved": "resolved",
};

export function registerPagerDutyWebhook(server: HoustonServer, opts: PagerDutyWebhookOptions): void {
  const secrets = opts.secrets.map((s) => s.trim()).filter((s) => s.length > 0);
  if (secrets.length === 0) {
    throw new Error(
      "PagerDuty webhooks need a secret: set PAGERDUTY_WEBHOOK_SECRET to the subscription's secret " +
        "(two, comma-separated, while rotating)",
    );
  }
  const now = opts.now ?? (() => new Date());
  const timeoutMs = opts.processingTimeoutMs ?? 4_000;

  server.route("POST", WEBHOOK_PATH, async ({ req, res, log }) => {
    const raw = await readBody(req, MAX_BODY_BYTES);
    const header = req.headers["x-pagerduty-signature"];
    const verdict = verifySignature(raw, Array.isArray(header) ? header.join(",") : header, secrets);
    if (verdict !== "ok") {
      log.warn({ reason: verdict }, "pagerduty webhook: refused (signature)");
      return sendJson(res, 401, { error: verdict });
    }
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      // Signed by PagerDuty yet unreadable: retrying will not help, and a 4xx would count
      // towards disabling the subscription. Accept and log.
      log.error("pagerduty webhook: signed body is not JSON; ignored");
      return sendJson(res, 200, { status: "ignored", reason: "body is not JSON" });
    }
    const parsed = parseWebhook(body);
    if (parsed.kind === "ignored") {
      log.debug({ reason: parsed.reason }, "pagerduty webhook: ignored");
      return sendJson(res, 200, { status: "ignored", reason: parsed.reason });
    }
    const deliveryId = parsed.eventId
      ? `event:${parsed.eventId}`
      : `body:${createHash("sha256").update(raw, "utf8").digest("hex")}`;
    // X-Webhook-Id is logged to match PagerDuty's delivery log; it decides nothing.
    const idHeader = req.headers["x-webhook-id"];
    const wlog = log.child({
      deliveryId,
      ...(typeof idHeader === "string" ? { webhookId: idHeader } : {}),
      eventType: parsed.eventType,
      dedupKey: parsed.dedupKey,
    });
    try {
      const outcome = await withTimeout(timeoutMs, async () => {
        const seen = await opts.store.query(
          sql`SELECT 1 AS seen FROM webhook_deliveries WHERE id = ${deliveryId}`,
        );
        if (seen.length > 0) return "duplicate" as const;
        const key = await incidentKeyForDedupKey(opts.store, parsed.dedupKey);
        const result = await opts.onIncidentChange({
          key,
          state: parsed.state,
          by: parsed.by,
          at: parsed.at ?? now(),
        });
        await opts.store.query(
          sql`INSERT INTO webhook_deliveries (id) VALUES (${deliveryId}) ON CONFLICT (id) DO NOTHING`,
        );
        return result;
      });
      if (outcome === "duplicate") {
        wlog.info("pagerduty webhook: duplicate delivery; already applied");
        return sendJson(res, 200, { status: "duplicate" });
      }
      if (outcome === "unknown") {
        wlog.info("pagerduty webhook: no Houston incident has this key; ignored");
        return sendJson(res, 200, { status: "ignored", reason: "unknown incident" });
      }
      wlog.info({ state: parsed.state, by: parsed.by }, "pagerduty webhook: incident updated");
      return sendJson(res, 200, { status: "updated" });
    } catch (err) {
      wlog.error({ err }, "pagerduty webhook: could not apply the change; PagerDuty will retry");
      return sendJson(res, 503, { error: "temporarily unable to apply the change; retry later" });
    }
  });
}

/**
 * "ok" when any v1= signature in the header is HMAC-SHA256(secret, body) for any secret;
 * otherwise why not. Comparisons are constant-time.
 */
export function verifySignature(rawBody: string, header: string | undefined, secrets: string[]): string {
  if (!header || header.trim() === "") return "missing X-PagerDuty-Signature header";
  const provided = header
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.startsWith("v1="))
    .map((s) => s.slice(3))
    .filter((hex) => /^[0-9a-fA-F]{64}$/.test(hex))
    .map((hex) => Buffer.from(hex, "hex"));
  if (provided.length === 0) return "X-PagerDuty-Signature holds no v1= signature";
  const body = Buffer.from(rawBody, "utf8");
  for (const secret of secrets) {
    const expected = createHmac("sha256", secret).update(body).digest();
    for (const sig of provided) {
      if (timingSafeEqual(sig, expected)) return "ok";
    }
  }
  return "signature does not match (wrong PAGERDUTY_WEBHOOK_SECRET, or the body was altered)";
}

/** The header PagerDuty would send for body, one v1= per secret (tests, tools). */
export function signatureHeader(rawBody: string, secrets: string[]): string {
  return secrets.map((s) => `v1=${createHmac("sha256", s).update(rawBody, "utf8").digest("hex")}`).join(",");
}

export type ParsedWebhook =
  | {
      kind: "change";
      eventId: string | undefined;
      eventType: string;
      dedupKey: string;
      state: IncidentChange["state"];
      by: string;
      at: Date | undefined;
    }
  | { kind: "ignored"; reason: string };

/** Reads a V3 webhook body: { event: { id, event_type, occurred_at, agent, data } }. */
export function parseWebhook(body: unknown): ParsedWebhook {
  const ev = obj(obj(body)?.["event"]);
  if (!ev) return { kind: "ignored", reason: "not a V3 webhook (no event object)" };
  const eventType = str(ev["event_type"]);
  if (!eventType) return { kind: "ignored", reason: "event has no event_type" };
  const state = STATES[eventType];
  if (!state) return { kind: "ignored", reason: `event type ${eventType} is not handled` };
  const data = obj(ev["data"]);
  const dedupKey =
    str(data?.["incident_key"]) ?? str(data?.["dedup_key"]) ?? str(obj(data?.["alert"])?.["dedup_key"]);
  if (!dedupKey) return { kind: "ignored", reason: "incident has no incident_key" };
  const agent = obj(ev["agent"]);
  const by = str(agent?.["summary"]) ?? str(agent?.["name"]) ?? str(agent?.["id"]) ?? "PagerDuty";
  const occurred = str(ev["occurred_at"]);
  const at = occurred && !Number.isNaN(Date.parse(occurred)) ? new Date(occurred) : undefined;
  return { kind: "change", eventId: str(ev["id"]), eventType, dedupKey, state, by, at };
}

function obj(v: unknown): Record<string, unknown> | undefined {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

function str(v: unknown): string | undefined {
  return typeof v === "string" && v.trim() !== "" ? v : undefined;
}

async function withTimeout<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
