// POST /api/v1/ask: a question answered over HTTP, for `houston ask` against a running
// Houston (HOUSTON_URL) and for scripts. Read-only by construction: the tokens are their
// own (HOUSTON_ASK_TOKENS, not the ingest tokens), and with no Slack asker the families
// that change something (silence, subscribe) answer that they need Slack.
import type { Logger } from "pino";
import type { Store } from "../db/client.ts";
import { HttpError, readBody, sendJson } from "../http/body.ts";
import type { HoustonServer } from "../http/server.ts";
import { checkToken } from "../ingest/routes.ts";
import { isValidTimeZone } from "../config.ts";
import { toTerminal } from "./answer.ts";
import { ask } from "./router.ts";
import type { Command } from "./types.ts";

/** A question is a line of text: 16 KB is far more than anyone types. */
const MAX_ASK_BYTES = 16_384;
const MAX_QUESTION_CHARS = 2_000;

export interface AskRouteDeps {
  tokens: string[];
  commands: Command[];
  store: Store;
  /** HOUSTON_TIMEZONE: the zone when the request names none. */
  timezone: string;
  now: () => Date;
  log: Logger;
}

export function registerAskRoute(http: HoustonServer, deps: AskRouteDeps): void {
  http.route("POST", "/api/v1/ask", async ({ req, res, log }) => {
    checkToken(req, deps.tokens, { name: "asking over HTTP", setting: "HOUSTON_ASK_TOKENS" });
    const raw = await readBody(req, MAX_ASK_BYTES);
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch (err) {
      throw new HttpError(400, `malformed JSON: ${(err as Error).message}`);
    }
    if (typeof body !== "object" || body === null || Array.isArray(body))
      throw new HttpError(400, 'expected a JSON object like {"question": "did gl_summary run yesterday?"}');
    const { question, timezone } = body as Record<string, unknown>;
    if (typeof question !== "string" || question.trim() === "")
      throw new HttpError(400, "question: expected a non-empty string", { field: "question" });
    if (question.length > MAX_QUESTION_CHARS)
      throw new HttpError(400, `question: at most ${MAX_QUESTION_CHARS} characters`, { field: "question" });
    if (timezone !== undefined && (typeof timezone !== "string" || !isValidTimeZone(timezone)))
      throw new HttpError(400, "timezone: expected an IANA time zone such as Europe/Berlin", {
        field: "timezone",
      });
    const r = await ask(
      deps.commands,
      {
        store: deps.store,
        now: deps.now(),
        timezone: (timezone as string | undefined) ?? deps.timezone,
        log,
      },
      question,
    );
    sendJson(res, 200, {
      family: r.family,
      text: toTerminal(r.answer),
      answer: r.answer,
    });
  });
}
