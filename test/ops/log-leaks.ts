// The last step of `npm test`: scans every log line the suite wrote (one file per
// test process in HOUSTON_TEST_LOG_DIR, see test/helpers/log.ts) for the secrets the tests
// use, and fails when one appears.
//
// The secrets are not listed by hand: they are read from the test sources, every string
// literal of 8+ characters given to a name that says it holds a token, secret or routing
// key (`const BOT_TOKEN = "xoxb-…"`, `HOUSTON_INGEST_TOKENS: "…"`, `routingKey: "…"`), so a
// new test's token is covered the day it is written. Anything shaped like a Slack token
// counts too, whatever test it came from.
//
//   node --import tsx test/ops/log-leaks.ts <log dir> [--remove-when-clean]
//
// Exit 0: lines were found and none holds a secret. Exit 1: a leak (file, line, which
// secret, the line's message), or no log lines at all (the tee is broken, so the check
// would prove nothing). Exit 2: usage.
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(fileURLToPath(import.meta.url), "..", "..", "..");

const SECRET_NAME = String.raw`[A-Za-z_]*(?:TOKEN|SECRET|ROUTING_KEY|routing_key|routingKey|[Ss]ecret|[Tt]oken)[A-Za-z_]*`;
const ASSIGNMENT = new RegExp(String.raw`\b${SECRET_NAME}\s*(?::\s*string)?\s*[:=]\s*"([^"$\\]{8,})"`, "g");
/** Slack tokens of any kind: one in a log line is a leak whichever test it came from. */
const SLACK_TOKEN = /\bx(?:oxb|oxp|oxa|app)-[A-Za-z0-9-]{6,}/;

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** Every secret-looking literal the test sources hand to a token/secret/routing-key name. */
export function suiteSecrets(testDir = join(REPO, "test")): string[] {
  const found = new Set<string>();
  for (const file of sources(testDir)) {
    for (const m of readFileSync(file, "utf8").matchAll(ASSIGNMENT)) {
      // HOUSTON_INGEST_TOKENS and PAGERDUTY_WEBHOOK_SECRET take comma-separated lists.
      for (const part of m[1]!.split(",")) {
        const s = part.trim();
        if (s.length >= 8 && !/\s/.test(s)) found.add(s);
      }
    }
  }
  return [...found].sort();
}

export interface Leak {
  file: string;
  line: number;
  secret: string;
  msg: string;
}

export interface ScanResult {
  files: number;
  lines: number;
  leaks: Leak[];
}

export function scanLogs(dir: string, secrets: string[]): ScanResult {
  const result: ScanResult = { files: 0, lines: 0, leaks: [] };
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".ndjson"));
  } catch {
    return result;
  }
  for (const name of names) {
    result.files++;
    const text = readFileSync(join(dir, name), "utf8");
    text.split("\n").forEach((line, i) => {
      if (line === "") return;
      result.lines++;
      const hit = secrets.find((s) => line.includes(s)) ?? SLACK_TOKEN.exec(line)?.[0];
      if (!hit) return;
      let msg: string;
      try {
        msg = String((JSON.parse(line) as { msg?: unknown }).msg ?? "");
      } catch {
        msg = line.slice(0, 120);
      }
      result.leaks.push({ file: name, line: i + 1, secret: hit, msg });
    });
  }
  return result;
}

/** Enough of a secret to tell which one it was, not enough to be one. */
const mask = (s: string) => `${s.slice(0, 6)}…(${s.length} chars)`;

function main(argv: string[]): number {
  const dir = argv.find((a) => !a.startsWith("--"));
  if (!dir) {
    console.error("usage: log-leaks.ts <log dir> [--remove-when-clean]");
    return 2;
  }
  const secrets = suiteSecrets();
  const r = scanLogs(dir, secrets);
  const where = relative(process.cwd(), dir) || dir;
  if (r.lines === 0) {
    console.error(
      `log-leaks: no test log lines in ${where}: test/helpers/log.ts did not write there, so nothing was checked`,
    );
    return 1;
  }
  if (r.leaks.length > 0) {
    console.error(`log-leaks: ${r.leaks.length} log line(s) in ${where} contain a test secret:`);
    for (const l of r.leaks.slice(0, 20)) {
      const msg = l.msg.split(l.secret).join(mask(l.secret)).slice(0, 160);
      console.error(`  ${l.file}:${l.line}: ${mask(l.secret)} in "${msg}"`);
    }
    console.error("Redact the field in src/log.ts (REDACT_PATHS) or stop logging it. The logs are kept.");
    return 1;
  }
  console.log(
    `log-leaks: ${r.lines} log lines from ${r.files} test processes hold none of ${secrets.length} test secrets`,
  );
  if (argv.includes("--remove-when-clean")) rmSync(dir, { recursive: true, force: true });
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
