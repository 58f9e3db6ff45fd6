// A small fake of Slack on 127.0.0.1 for tests that run the real Bolt app: the Web API
// (POST /api/<method>, form or JSON bodies, every call recorded), the upload URL that
// files.uploadV2 POSTs to, and response_url receivers. Per-method answers can be
// overridden, including 429 with Retry-After. Plus what Slack itself does to reach Houston:
// signed requests, slash command bodies and Events API envelopes.
import { createHmac, randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SlackCall {
  method: string;
  /** Parsed body; JSON-looking form values (blocks, attachments) are parsed too. */
  params: Record<string, any>;
  /** The bearer token sent (or the `token` param). */
  token?: string;
  /** performance.now() when the call arrived. */
  at: number;
  /** The HTTP status the fake answered with (429 for a rate-limited call). */
  status: number;
}

export interface ResponseUrlPost {
  id: string;
  body: any;
  at: number;
}

export interface UploadPost {
  fileId: string;
  contentType: string;
  body: Buffer;
  at: number;
}

/** A message as the fake keeps it (chat.postMessage, then chat.update), for conversations.history. */
export interface StoredMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: any[];
  metadata?: { event_type: string; event_payload?: Record<string, unknown> };
  thread_ts?: string;
  /** How many times chat.update changed it. */
  edits: number;
}

export interface FakeReply {
  /** Answer this much later (a slow Slack). */
  delayMs?: number;
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * Returns a reply to override the default (a reply without a body keeps the usual answer,
 * e.g. `{ delayMs }`), or undefined to fall through to the next override or the default.
 */
export type MethodOverride = (params: Record<string, any>, call: SlackCall) => FakeReply | undefined;

export interface FakeUser {
  tz?: string;
  name?: string;
  isBot?: boolean;
}

export const FAKE_TEAM = { id: "T0HOUSTON", name: "Houston Test" };
export const FAKE_BOT = { userId: "U0HOUSTON", botId: "B0HOUSTON", appId: "A0HOUSTON", name: "houston" };

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly responses: ResponseUrlPost[] = [];
  readonly uploads: UploadPost[] = [];
  readonly users = new Map<string, FakeUser>();
  /** Messages posted with the default answer, per channel, oldest first (updated by chat.update). */
  readonly messages = new Map<string, StoredMessage[]>();
  /** What apps.connections.open hands out (a ws:// URL of the test's WebSocket server). */
  socketUrl?: string;
  /** Status the response_url receiver answers with (Slack answers 404 for an expired one). */
  responseUrlStatus = 200;
  private readonly overrides = new Map<string, MethodOverride[]>();
  private readonly events = new EventEmitter();
  private ts = 1_763_800_000_000;

  private constructor(
    private readonly server: Server,
    readonly baseUrl: string,
  ) {
    this.events.setMaxListeners(100);
  }

  static async start(): Promise<FakeSlack> {
    // Assigned after the server exists; the handler only runs once it is listening.
    // eslint-disable-next-line prefer-const
    let fake: FakeSlack | undefined;
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((err: unknown) => {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(String(err));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    fake = new FakeSlack(server, `http://127.0.0.1:${port}`);
    return fake;
  }

  /** SLACK_API_URL for the app under test. */
  get apiUrl(): string {
    return `${this.baseUrl}/api/`;
  }

  /** A fresh loopback response_url; what Houston POSTs there lands in `responses`. */
  responseUrl(id = randomBytes(6).toString("hex")): string {
    return `${this.baseUrl}/respond/${id}`;
  }

  setUser(id: string, user: FakeUser): void {
    this.users.set(id, user);
  }

  /** Overrides a method's answer (the newest override is asked first). */
  override(method: string, fn: MethodOverride): void {
    this.overrides.set(method, [fn, ...(this.overrides.get(method) ?? [])]);
  }

  /** The next `times` calls of `method` get 429 with Retry-After: `retryAfter` seconds. */
  rateLimit(method: string, { times = 1, retryAfter = 1 } = {}): void {
    let left = times;
    this.override(method, () => {
      if (left <= 0) return undefined;
      left--;
      return {
        status: 429,
        headers: { "retry-after": String(retryAfter) },
        body: { ok: false, error: "ratelimited" },
      };
    });
  }

  /** Every later call of `method` fails with Slack error `error`. */
  fail(method: string, error: string, extra: Record<string, unknown> = {}): void {
    this.override(method, () => ({ body: { ok: false, error, ...extra } }));
  }

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  responsesTo(url: string): ResponseUrlPost[] {
    const id = url.slice(url.lastIndexOf("/") + 1);
    return this.responses.filter((r) => r.id === id);
  }

  /**
   * Resolves with the first truthy value of `probe`, re-checked whenever the fake records
   * something (and every 20 ms for probes on other state); rejects after `timeoutMs` with
   * what was recorded, so a failing test says what did happen.
   */
  waitFor<T>(probe: () => T | undefined | null | false, timeoutMs = 5_000, what = "condition"): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        let v: T | undefined | null | false;
        try {
          v = probe();
        } catch (err) {
          done();
          reject(err);
          return;
        }
        if (v) {
          done();
          resolve(v);
        }
      };
      const interval = setInterval(check, 20);
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `timed out after ${timeoutMs} ms waiting for ${what}; Slack saw: ${
              this.calls.map((c) => `${c.method}→${c.status}`).join(", ") || "no API calls"
            }; response_url posts: ${this.responses.length}`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearInterval(interval);
        clearTimeout(timer);
        this.events.off("record", check);
      };
      this.events.on("record", check);
      check();
    });
  }

  /** Forgets recorded traffic and overrides (users and socketUrl stay). */
  reset(): void {
    this.calls.length = 0;
    this.responses.length = 0;
    this.uploads.length = 0;
    this.messages.clear();
    this.overrides.clear();
    this.responseUrlStatus = 200;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private record(): void {
    this.events.emit("record");
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const url = new URL(req.url ?? "/", this.baseUrl);
    const raw = await readAll(req);
    const contentType = String(req.headers["content-type"] ?? "");
    if (req.method === "POST" && url.pathname.startsWith("/respond/")) {
      let body: unknown = raw.toString("utf8");
      try {
        body = JSON.parse(String(body));
      } catch {
        // recorded as text: a test asserting on it will say so
      }
      this.responses.push({ id: url.pathname.slice("/respond/".length), body, at });
      send(res, this.responseUrlStatus, this.responseUrlStatus === 200 ? { ok: true } : { ok: false });
      this.record();
      return;
    }
    if (req.method === "POST" && url.pathname.startsWith("/upload/")) {
      this.uploads.push({ fileId: url.pathname.slice("/upload/".length), contentType, body: raw, at });
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`OK - ${raw.length}`);
      this.record();
      return;
    }
    if (req.method !== "POST" || !url.pathname.startsWith("/api/")) {
      send(res, 404, { ok: false, error: "not_found" });
      return;
    }
    const method = url.pathname.slice("/api/".length);
    const params = parseParams(raw.toString("utf8"), contentType);
    for (const [k, v] of url.searchParams) params[k] ??= v;
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ""))?.[1];
    const token = bearer ?? (typeof params["token"] === "string" ? params["token"] : undefined);
    const call: SlackCall = { method, params, ...(token ? { token } : {}), at, status: 200 };
    let reply: FakeReply | undefined;
    for (const fn of this.overrides.get(method) ?? []) {
      reply = fn(params, call);
      if (reply) break;
    }
    reply ??= {};
    call.status = reply.status ?? 200;
    this.calls.push(call);
    // An override without a body (e.g. only a delay) gets the method's usual answer.
    const body = reply.body ?? this.defaultAnswer(method, params);
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    send(res, call.status, body, reply.headers);
    this.record();
  }

  private nextTs(): string {
    this.ts += 1;
    return `${Math.floor(this.ts / 1000)}.${String(this.ts % 1000).padStart(6, "0")}`;
  }

  private defaultAnswer(method: string, p: Record<string, any>): Record<string, unknown> {
    switch (method) {
      case "auth.test":
        return {
          ok: true,
          url: "https://houston-test.slack.com/",
          team: FAKE_TEAM.name,
          user: FAKE_BOT.name,
          team_id: FAKE_TEAM.id,
          user_id: FAKE_BOT.userId,
          bot_id: FAKE_BOT.botId,
          is_enterprise_install: false,
        };
      case "users.info": {
        const u = this.users.get(String(p["user"]));
        if (!u) return { ok: false, error: "user_not_found" };
        return {
          ok: true,
          user: {
            id: p["user"],
            team_id: FAKE_TEAM.id,
            name: u.name ?? String(p["user"]).toLowerCase(),
            is_bot: u.isBot ?? false,
            ...(u.tz ? { tz: u.tz, tz_label: u.tz, tz_offset: 0 } : {}),
          },
        };
      }
      case "chat.postMessage": {
        const ts = this.nextTs();
        const channel = String(p["channel"]);
        this.messages.set(channel, [
          ...(this.messages.get(channel) ?? []),
          {
            channel,
            ts,
            text: p["text"],
            blocks: p["blocks"],
            ...(p["metadata"] ? { metadata: p["metadata"] } : {}),
            ...(p["thread_ts"] ? { thread_ts: String(p["thread_ts"]) } : {}),
            edits: 0,
          },
        ]);
        return {
          ok: true,
          channel: p["channel"],
          ts,
          message: { type: "message", text: p["text"], ts, bot_id: FAKE_BOT.botId, user: FAKE_BOT.userId },
        };
      }
      case "chat.update": {
        const m = this.messages.get(String(p["channel"]))?.find((x) => x.ts === String(p["ts"]));
        if (m) Object.assign(m, { text: p["text"], blocks: p["blocks"], edits: m.edits + 1 });
        return { ok: true, channel: p["channel"], ts: p["ts"], text: p["text"] };
      }
      case "conversations.history": {
        // Top-level messages, newest first; metadata only when asked for, as Slack does.
        const all = (this.messages.get(String(p["channel"])) ?? []).filter(
          (m) => !m.thread_ts || m.thread_ts === m.ts,
        );
        const withMeta = p["include_all_metadata"] === true || p["include_all_metadata"] === "true";
        const limit = Number(p["limit"] ?? 100);
        return {
          ok: true,
          messages: [...all]
            .reverse()
            .slice(0, limit)
            .map((m) => ({
              type: "message",
              ts: m.ts,
              text: m.text,
              blocks: m.blocks,
              bot_id: FAKE_BOT.botId,
              user: FAKE_BOT.userId,
              ...(withMeta && m.metadata ? { metadata: m.metadata } : {}),
            })),
          has_more: all.length > limit,
        };
      }
      case "views.publish":
        return { ok: true, view: { id: `V${randomBytes(4).toString("hex").toUpperCase()}`, type: "home" } };
      case "files.getUploadURLExternal": {
        const fileId = `F${randomBytes(4).toString("hex").toUpperCase()}`;
        return { ok: true, upload_url: `${this.baseUrl}/upload/${fileId}`, file_id: fileId };
      }
      case "files.completeUploadExternal": {
        const files = Array.isArray(p["files"]) ? (p["files"] as { id: string; title?: string }[]) : [];
        return { ok: true, files: files.map((f) => ({ id: f.id, title: f.title ?? "" })) };
      }
      case "apps.connections.open":
        return this.socketUrl
          ? { ok: true, url: this.socketUrl }
          : { ok: false, error: "no_socket_url_in_test" };
      default:
        return { ok: false, error: "unknown_method" };
    }
  }
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(text);
}

function parseParams(text: string, contentType: string): Record<string, any> {
  if (text === "") return {};
  if (contentType.startsWith("application/json")) return JSON.parse(text) as Record<string, any>;
  const out: Record<string, any> = {};
  for (const [k, v] of new URLSearchParams(text)) {
    out[k] = v;
    if (/^\s*[[{]/.test(v)) {
      try {
        out[k] = JSON.parse(v);
      } catch {
        // not JSON after all: keep the string
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------- what Slack sends

export interface SignedRequestOptions {
  /** Where to send it (Houston's /slack/events). */
  url: string;
  /** Seconds since the epoch; defaults to now. Older than 5 minutes → Bolt answers 401. */
  timestamp?: number;
  /** Replace the computed signature (to test a wrong one). */
  signature?: string;
  /** For a string body; URLSearchParams are always form, objects always JSON. */
  contentType?: string;
  headers?: Record<string, string>;
}

export interface SignedResponse {
  status: number;
  text: string;
  /** From sending to the response headers: what Slack waits for. */
  ms: number;
}

/** Slack's signature: v0= + hex HMAC-SHA256(signing secret, `v0:{timestamp}:{raw body}`). */
export function slackSignature(secret: string, timestamp: number, rawBody: string): string {
  return `v0=${createHmac("sha256", secret).update(`v0:${timestamp}:${rawBody}`).digest("hex")}`;
}

/**
 * Sends a request signed exactly as Slack signs it. Slash commands and interactivity are
 * sent as `application/x-www-form-urlencoded` with no charset (Bolt answers 400 to
 * anything else), events as `application/json`.
 */
export async function signedSlackRequest(
  secret: string,
  body: string | URLSearchParams | object,
  opts: SignedRequestOptions,
): Promise<SignedResponse> {
  let raw: string;
  let contentType: string;
  if (typeof body === "string") {
    raw = body;
    contentType = opts.contentType ?? "application/x-www-form-urlencoded";
  } else if (body instanceof URLSearchParams) {
    raw = body.toString();
    contentType = "application/x-www-form-urlencoded";
  } else {
    raw = JSON.stringify(body);
    contentType = "application/json";
  }
  const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
  const started = performance.now();
  const res = await fetch(opts.url, {
    method: "POST",
    headers: {
      "content-type": contentType,
      "x-slack-request-timestamp": String(timestamp),
      "x-slack-signature": opts.signature ?? slackSignature(secret, timestamp, raw),
      "user-agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
      ...opts.headers,
    },
    body: raw,
  });
  const ms = performance.now() - started;
  return { status: res.status, text: await res.text(), ms };
}

export interface SlashCommandFields {
  text: string;
  responseUrl: string;
  userId?: string;
  channelId?: string;
  command?: string;
  triggerId?: string;
}

/** A slash command body with every field Slack sends. */
export function slashCommand(f: SlashCommandFields): URLSearchParams {
  return new URLSearchParams({
    token: "legacy-verification-token",
    team_id: FAKE_TEAM.id,
    team_domain: "houston-test",
    channel_id: f.channelId ?? "C0DATAOPS",
    channel_name: "dataops",
    user_id: f.userId ?? "U0ASKER",
    user_name: "asker",
    command: f.command ?? "/houston",
    text: f.text,
    api_app_id: FAKE_BOT.appId,
    is_enterprise_install: "false",
    response_url: f.responseUrl,
    trigger_id: f.triggerId ?? `${Date.now()}.${randomBytes(4).toString("hex")}`,
  });
}

let eventSeq = 0;

/** An Events API envelope (event_callback) around `event`. */
export function eventCallback(event: Record<string, unknown>, opts: { eventId?: string } = {}) {
  eventSeq++;
  return {
    token: "legacy-verification-token",
    team_id: FAKE_TEAM.id,
    api_app_id: FAKE_BOT.appId,
    event: { event_ts: event["ts"], ...event },
    type: "event_callback",
    event_id: opts.eventId ?? `Ev${Date.now().toString(36).toUpperCase()}${eventSeq}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      {
        enterprise_id: null,
        team_id: FAKE_TEAM.id,
        user_id: FAKE_BOT.userId,
        is_bot: true,
        is_enterprise_install: false,
      },
    ],
    is_ext_shared_channel: false,
  };
}

let tsSeq = 0;
/** A message timestamp as Slack writes them ("1763800000.000100"), unique per call. */
export function messageTs(): string {
  tsSeq++;
  return `${Math.floor(Date.now() / 1000)}.${String(tsSeq).padStart(6, "0")}`;
}

export interface BlockActionFields {
  actionId: string;
  value: string;
  userId?: string;
  channelId: string;
  /** The message the button is on. */
  messageTs: string;
  responseUrl: string;
  blockId?: string;
  triggerId?: string;
}

/** An interactivity request as Slack sends a button click: form-encoded `payload` JSON. */
export function blockActions(f: BlockActionFields): URLSearchParams {
  const userId = f.userId ?? "U0ASKER";
  const payload = {
    type: "block_actions",
    user: { id: userId, username: userId.toLowerCase(), name: userId.toLowerCase(), team_id: FAKE_TEAM.id },
    api_app_id: FAKE_BOT.appId,
    token: "legacy-verification-token",
    container: { type: "message", message_ts: f.messageTs, channel_id: f.channelId, is_ephemeral: false },
    trigger_id: f.triggerId ?? `${Date.now()}.${randomBytes(4).toString("hex")}`,
    team: { id: FAKE_TEAM.id, domain: "houston-test" },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: f.channelId, name: "alerts" },
    message: { type: "message", ts: f.messageTs, bot_id: FAKE_BOT.botId, user: FAKE_BOT.userId, text: "" },
    state: { values: {} },
    response_url: f.responseUrl,
    actions: [
      {
        type: "button",
        action_id: f.actionId,
        block_id: f.blockId ?? "incident",
        text: { type: "plain_text", text: f.actionId, emoji: true },
        value: f.value,
        action_ts: `${Math.floor(Date.now() / 1000)}.000100`,
      },
    ],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) });
}
