// A fake PagerDuty Events API v2 (POST /v2/enqueue) over HTTPS on 127.0.0.1, for pdjs, which
// only ever speaks https. The certificate is made here, per test process, and trusted through
// `agent` (an https.Agent with the CA): TLS verification stays on.
//
// Every request body is checked against the request schema in PagerDuty's own OpenAPI file
// (../shared/fixtures/pagerduty/events-v2-openapi.json) plus what the service enforces beyond
// it (summary ≤ 1,024 characters, dedup_key ≤ 255; a trigger needs a payload, acknowledge and
// resolve a dedup_key). It is stricter than PagerDuty in one way: a field the schema does not
// declare is a violation (PagerDuty ignores it, which hides typos such as "dedupe_key").
// A violation is answered 400 as PagerDuty would and kept in `violations`: tests assert it is
// empty. Without ../shared the schema part is skipped (schemaSkipReason says so); the limits
// are still checked and the fake still works.
//
// Answers are scripted: script(500, 429, 202) queues statuses for the next requests; after
// the queue, `respond(body, n)` decides (default: 202). "hang" never answers (until close).
import { readFileSync } from "node:fs";
import { Agent, createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { generate } from "selfsigned";
import { FIXTURES_DIR } from "./fixtures.ts";

export type FakeAnswer = 202 | 400 | 404 | 408 | 429 | 500 | 502 | 503 | "hang" | "not-json";

export interface FakeRequest {
  /** 1-based, in arrival order. */
  n: number;
  body: unknown;
  answer: FakeAnswer;
  userAgent: string | undefined;
}

export interface FakePagerDuty {
  /** host:port for PAGERDUTY_EVENTS_SERVER / the sender's `server`. */
  server: string;
  /** Trusts the fake's certificate. */
  agent: Agent;
  /** Accepted events (answered 202), in order. */
  accepted: any[];
  /** Every request and how it was answered. */
  requests: FakeRequest[];
  /** Bodies PagerDuty would have refused, with why: a test failure signal. */
  violations: { body: unknown; errors: string[] }[];
  /** Set when the OpenAPI schema was not found (bodies are then checked for limits only). */
  schemaSkipReason: string | undefined;
  /** Queue answers for the next requests. */
  script(...answers: FakeAnswer[]): void;
  /** Forget requests, accepted events, the script and `respond` (violations are kept). */
  reset(): void;
  /** Decides answers once the script is used up (default: always 202). */
  respond: (body: unknown, n: number) => FakeAnswer;
  /** Resolves when `count` events have been accepted. */
  waitForAccepted(count: number): Promise<void>;
  /** Resolves when `count` requests have arrived (whatever their answer). */
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

export const OPENAPI_FILE = join(FIXTURES_DIR, "pagerduty", "events-v2-openapi.json");

// ajv-formats is CommonJS with a default export; under ESM it may arrive wrapped.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

let schemaValidator: { validate?: ValidateFunction; skipReason?: string } | undefined;

/** The enqueue request schema from PagerDuty's OpenAPI file, made strict about unknown fields. */
function loadValidator(): { validate?: ValidateFunction; skipReason?: string } {
  if (schemaValidator) return schemaValidator;
  let doc: any;
  try {
    doc = JSON.parse(readFileSync(OPENAPI_FILE, "utf8"));
  } catch (err) {
    schemaValidator = {
      skipReason: `PagerDuty's OpenAPI file is not available (${OPENAPI_FILE}: ${(err as NodeJS.ErrnoException).code ?? err}); events are checked for the service limits only`,
    };
    return schemaValidator;
  }
  const request = doc.paths["/enqueue"].post.requestBody.content["application/json"].schema;
  request.additionalProperties = false;
  doc.components.schemas.Payload.additionalProperties = false;
  for (const name of ["Links", "Images"]) doc.components.schemas[name].items.additionalProperties = false;
  // OpenAPI 3.0 keywords ajv does not know (example, x-*) are ignored, not errors.
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, "pagerduty-events-v2");
  schemaValidator = {
    validate: ajv.compile({
      $ref: "pagerduty-events-v2#/paths/~1enqueue/post/requestBody/content/application~1json/schema",
    }),
  };
  return schemaValidator;
}

/** Why PagerDuty would refuse this body (schema and service limits); [] when it would accept. */
export function eventViolations(body: unknown): string[] {
  const errors: string[] = [];
  const { validate } = loadValidator();
  if (validate && !validate(body)) {
    for (const e of validate.errors ?? [])
      errors.push(`${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
  }
  const b = body as any;
  if (b && typeof b === "object") {
    if (typeof b.payload?.summary === "string" && [...b.payload.summary].length > 1024) {
      errors.push("/payload/summary is longer than 1024 characters");
    }
    if (typeof b.dedup_key === "string" && [...b.dedup_key].length > 255) {
      errors.push("/dedup_key is longer than 255 characters");
    }
    if (b.event_action === "trigger" && (b.payload === undefined || b.payload === null)) {
      errors.push("/payload is required for a trigger");
    }
    if (
      (b.event_action === "acknowledge" || b.event_action === "resolve") &&
      typeof b.dedup_key !== "string"
    ) {
      errors.push(`/dedup_key is required to ${b.event_action}`);
    }
  } else errors.push("/ is not an object");
  return errors;
}

export function schemaSkipReason(): string | undefined {
  return loadValidator().skipReason;
}

let certificate: Promise<{ key: string; cert: string }> | undefined;

/** One self-signed certificate for 127.0.0.1 per test process (EC keys: milliseconds). */
function testCertificate(): Promise<{ key: string; cert: string }> {
  certificate ??= generate([{ name: "commonName", value: "127.0.0.1" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: new Date(Date.now() - 3_600_000),
    notAfterDate: new Date(Date.now() + 7 * 86_400_000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] },
    ],
  }).then((r) => ({ key: r.private, cert: r.cert }));
  return certificate;
}

const ANSWERS: Record<Exclude<FakeAnswer, "hang" | "not-json">, unknown> = {
  202: { status: "success", message: "Event processed" },
  400: { status: "invalid event", message: "Event object is invalid", errors: ["scripted 400"] },
  404: { status: "not found", message: "Not Found" },
  408: { status: "timeout", message: "Request timed out" },
  429: { status: "throttle event", message: "Requests for this service are arriving too quickly" },
  500: { status: "error", message: "Internal server error" },
  502: { status: "error", message: "Bad gateway" },
  503: { status: "error", message: "Service unavailable" },
};

export async function startFakePagerDuty(): Promise<FakePagerDuty> {
  const { key, cert } = await testCertificate();
  const queue: FakeAnswer[] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const requestWaiters: { count: number; resolve: () => void }[] = [];
  const wake = (list: { count: number; resolve: () => void }[], have: number) => {
    for (const w of list.filter((x) => have >= x.count)) {
      list.splice(list.indexOf(w), 1);
      w.resolve();
    }
  };
  const fake: FakePagerDuty = {
    server: "",
    agent: new Agent({ ca: cert, keepAlive: true }),
    accepted: [],
    requests: [],
    violations: [],
    schemaSkipReason: schemaSkipReason(),
    script: (...answers) => void queue.push(...answers),
    reset() {
      queue.length = 0;
      fake.accepted.length = 0;
      fake.requests.length = 0;
      fake.respond = () => 202;
    },
    respond: () => 202,
    waitForAccepted(count) {
      if (fake.accepted.length >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    waitForRequests(count) {
      if (fake.requests.length >= count) return Promise.resolve();
      return new Promise((resolve) => requestWaiters.push({ count, resolve }));
    },
    close: async () => {},
  };
  const server: Server = createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const n = fake.requests.length + 1;
      const record = (r: FakeRequest) => {
        fake.requests.push(r);
        wake(requestWaiters, fake.requests.length);
      };
      const send = (status: number, body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(status, {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(text),
        });
        res.end(text);
      };
      if (req.method !== "POST" || req.url !== "/v2/enqueue") {
        record({ n, body: undefined, answer: 400, userAgent: req.headers["user-agent"] });
        fake.violations.push({
          body: undefined,
          errors: [`${req.method} ${req.url} is not POST /v2/enqueue`],
        });
        return send(404, { status: "not found", message: `no such endpoint ${req.url}` });
      }
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        record({ n, body: undefined, answer: 400, userAgent: req.headers["user-agent"] });
        fake.violations.push({ body: undefined, errors: ["body is not JSON"] });
        return send(400, {
          status: "invalid event",
          message: "Event object is invalid",
          errors: ["JSON parse error"],
        });
      }
      const errors = eventViolations(body);
      if (errors.length > 0) {
        record({ n, body, answer: 400, userAgent: req.headers["user-agent"] });
        fake.violations.push({ body, errors });
        return send(400, { status: "invalid event", message: "Event object is invalid", errors });
      }
      const answer = queue.length > 0 ? queue.shift()! : fake.respond(body, n);
      record({ n, body, answer, userAgent: req.headers["user-agent"] });
      if (answer === "hang") return;
      if (answer === "not-json") {
        res.writeHead(502, { "content-type": "text/html" });
        return res.end("<html><body>502 Bad Gateway</body></html>");
      }
      if (answer === 202) {
        fake.accepted.push(body);
        wake(waiters, fake.accepted.length);
        return send(202, {
          ...(ANSWERS[202] as object),
          dedup_key: (body as { dedup_key?: string }).dedup_key,
        });
      }
      return send(answer, ANSWERS[answer]);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  fake.server = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  let closed: Promise<void> | undefined;
  fake.close = () => {
    closed ??= new Promise<void>((resolve) => {
      fake.agent.destroy();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closed;
  };
  return fake;
}
