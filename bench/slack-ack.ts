// Slack ack benchmark: Slack gives up on a slash command that is not answered with HTTP 200
// within 3 s, so Houston acks at once and answers later through response_url. This
// measures both ends as Slack sees them, over a loaded store (run `npm run bench` first):
// the service runs in its own process (HTTP mode, signing secret, Web API pointed at an
// in-process fake Slack), slow fleet-wide questions are kept in flight the whole time, and
// N more signed slash commands are sent one after another; for each, the time to the ack
// and the time until its answer reached the response_url. Prints figures; not a test.
//
//   node --import tsx bench/slack-ack.ts [--db URL] [--commands 60] [--slow 2]
//
// The service is Houston's own app (createApp, as src/main.ts builds it) without the cron
// scheduler: monitors, maintenance and digests would write incidents, slots and rollups
// into the benchmark database, which must stay as `npm run bench` loaded it. Pass
// `--service main` to run the service itself (the build, scheduler included) against a scratch copy.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { FakeSlack, signedSlackRequest, slashCommand } from "../test/helpers/fake-slack.ts";
import { type Service, serviceCommand, startService } from "./service.ts";

const SELF = fileURLToPath(import.meta.url);
const SECRET = "bench-signing-secret";
/** Slack's own limit for the ack; Houston's target is far below it. */
export const ACK_TARGET_MS = 50;

/** Fleet-wide questions, the slow kind: kept in flight while the acks are measured. */
const SLOW_QUESTIONS = [
  "how many jobs will run today?",
  "which expected runs are missing?",
  "which data supplier is troublesome?",
  "how many jobs ran yesterday and how long did they take?",
  "which pipelines fail the most this week?",
];

export interface AckFigures {
  commands: number;
  slowInFlight: number;
  slowAnswered: number;
  ackP50: number;
  ackP99: number;
  ackMax: number;
  answerP50: number;
  answerP99: number;
  /** Commands not acked with 200, or answered with an error. */
  failures: number;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};

/** The child process: Houston's app in HTTP mode, no scheduler (see the header). */
async function serve(): Promise<void> {
  const { createApp } = await import("../src/app.ts");
  const { loadConfig } = await import("../src/config.ts");
  const { createLogger } = await import("../src/log.ts");
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const app = await createApp({ config, log, schedule: false });
  await app.listen();
  const stop = () => void app.stop().then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

/** The app in HTTP mode (this file's --serve), or the real service (`--service main`: the build). */
function startAckService(db: string, slackApiUrl: string, mode: "app" | "main"): Promise<Service> {
  const argv = mode === "main" ? serviceCommand() : [process.execPath, "--import", "tsx", SELF, "--serve"];
  return startService(argv, {
    DATABASE_URL: db,
    SLACK_BOT_TOKEN: "xoxb-bench-token",
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slackApiUrl,
  });
}

export async function measureSlackAck(opts: {
  db: string;
  commands?: number;
  slow?: number;
  service?: "app" | "main";
}): Promise<AckFigures> {
  const total = opts.commands ?? 60;
  const slowLoops = opts.slow ?? 2;
  const slack = await FakeSlack.start();
  slack.setUser("U0ASKER", { tz: "UTC" });
  const service = await startAckService(opts.db, slack.apiUrl, opts.service ?? "app");
  const url = `${service.base}/slack/events`;
  let failures = 0;

  /** Sends one signed /houston command; resolves with the ack ms and (later) the answer ms. */
  const command = async (text: string) => {
    const id = `${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    const sent = performance.now();
    const res = await signedSlackRequest(SECRET, slashCommand({ text, responseUrl: slack.responseUrl(id) }), {
      url,
    });
    if (res.status !== 200) {
      failures++;
      return { ackMs: res.ms, answer: Promise.resolve(NaN) };
    }
    const answer = slack
      .waitFor(() => slack.responses.find((r) => r.id === id), 60_000, `the answer to "${text}"`)
      .then((r) => {
        if (/Something went wrong/.test(JSON.stringify(r.body))) failures++;
        return r.at - sent;
      });
    return { ackMs: res.ms, answer };
  };

  try {
    // Warm: the first question loads names and plans; not what a user sees twice.
    for (const q of SLOW_QUESTIONS) await (await command(q)).answer;
    let stop = false;
    let slowAnswered = 0;
    const loops = Array.from({ length: slowLoops }, async (_, k) => {
      for (let i = k; !stop; i++) {
        await (
          await command(SLOW_QUESTIONS[i % SLOW_QUESTIONS.length]!)
        ).answer;
        slowAnswered++;
      }
    });
    // Let the slow questions get under way before the first measured command.
    await new Promise((r) => setTimeout(r, 200));
    const acks: number[] = [];
    const answers: Promise<number>[] = [];
    for (let i = 0; i < total; i++) {
      const { ackMs, answer } = await command(SLOW_QUESTIONS[(i + 2) % SLOW_QUESTIONS.length]!);
      acks.push(ackMs);
      answers.push(answer);
      // Spaced like people typing, not a flood: each ack meets slow answers in flight.
      await new Promise((r) => setTimeout(r, 25 + Math.random() * 50));
    }
    const answerMs = (await Promise.all(answers)).filter((x) => !Number.isNaN(x));
    stop = true;
    await Promise.all(loops);
    return {
      commands: total,
      slowInFlight: slowLoops,
      slowAnswered,
      ackP50: pct(acks, 50),
      ackP99: pct(acks, 99),
      ackMax: Math.max(...acks),
      answerP50: pct(answerMs, 50),
      answerP99: pct(answerMs, 99),
      failures,
    };
  } finally {
    await service.stop();
    await slack.close();
  }
}

export function printAck(f: AckFigures): void {
  console.log(
    `Slack ack: ${f.commands} signed /houston commands over HTTP while ${f.slowInFlight} slow fleet-wide questions were ` +
      `in flight (${f.slowAnswered} answered meanwhile)`,
  );
  console.log(
    `  ack (HTTP 200 to Slack)         p50 ${f.ackP50.toFixed(2)} ms  p99 ${f.ackP99.toFixed(2)} ms  max ${f.ackMax.toFixed(2)} ms` +
      `  ≤ ${ACK_TARGET_MS} ms: ${f.ackP99 <= ACK_TARGET_MS ? "ok" : "MISSED"}`,
  );
  console.log(
    `  answer at response_url          p50 ${f.answerP50.toFixed(1)} ms  p99 ${f.answerP99.toFixed(1)} ms` +
      (f.failures ? `  (${f.failures} failed)` : ""),
  );
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === SELF;
if (isMain) {
  const args = process.argv.slice(2);
  const arg = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const run = args.includes("--serve")
    ? serve()
    : measureSlackAck({
        db: arg("--db") ?? process.env["DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/houston_bench",
        commands: Number(arg("--commands") ?? 60),
        slow: Number(arg("--slow") ?? 2),
        service: arg("--service") === "main" ? "main" : "app",
      }).then(printAck);
  run.catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
