// Why a signed Slack request cannot be read, for the few shapes Bolt's routing and
// Houston's listeners read without checking (`body.user.id` of every interaction, `'channel'
// in event` of every event). Such a body made Bolt throw before any listener ran, and the
// request was answered 500 as if Houston had failed: it is answered 400 instead (app.ts,
// after Bolt verified the signature and failed). One that Bolt can route but a listener
// could not use (a user that is not an object with an id) is acknowledged and ignored.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** The body Bolt parsed: JSON (Events API) or a form whose `payload` is JSON (interactivity). */
function parse(raw: string): { body?: unknown; reason?: string } {
  const trimmed = raw.trimStart();
  if (trimmed.startsWith("{")) {
    try {
      return { body: JSON.parse(trimmed) };
    } catch (err) {
      return { reason: `the body is not JSON: ${(err as Error).message}` };
    }
  }
  const form = new URLSearchParams(raw);
  const payload = form.get("payload");
  // A slash command: flat form fields, which Bolt reads without dereferencing any.
  if (payload === null) return {};
  try {
    return { body: JSON.parse(payload) };
  } catch (err) {
    return { reason: `the payload is not JSON: ${(err as Error).message}` };
  }
}

/** The reason a signed request's raw body cannot be read, or undefined when it can. */
export function unreadableSlackBody(raw: Buffer | string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const { body, reason } = parse(typeof raw === "string" ? raw : raw.toString("utf8"));
  if (reason) return reason;
  return body === undefined ? undefined : unreadableSlackPayload(body);
}

/** The reason a parsed body (an Events API envelope, a command, an interaction) cannot be read. */
export function unreadableSlackPayload(body: unknown): string | undefined {
  if (!isObj(body)) return "the payload is not a JSON object";
  if (body["event"] !== undefined) {
    const event = body["event"];
    if (!isObj(event)) return "event is not an object";
    if (event["item"] !== undefined && !isObj(event["item"])) return "event.item is not an object";
    return undefined;
  }
  if (body["command"] !== undefined || body["type"] === "url_verification" || body["ssl_check"] !== undefined)
    return undefined;
  // Every interaction (block_actions, shortcuts, view submissions, option requests).
  const user = body["user"];
  if (!isObj(user) || typeof user["id"] !== "string") return "an interaction without user.id";
  if (body["channel"] !== undefined && !isObj(body["channel"])) return "channel is not an object";
  const actions = body["actions"];
  if (actions !== undefined && !(Array.isArray(actions) && actions.length > 0 && actions.every(isObj)))
    return "actions is not a list of actions";
  if ((body["type"] === "view_submission" || body["type"] === "view_closed") && !isObj(body["view"]))
    return "a view interaction without view";
  return undefined;
}
