// Houston as a real child process (what `npm start` and the container run), and a slow
// PagerDuty for shutdown tests. The child's log lines are kept, parsed, and teed into the
// suite's log directory so the leak check sees them too.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { generate } from "selfsigned";
import { REPO_ROOT } from "../helpers/fixtures.ts";
import { teeToSuiteLog } from "../helpers/log.ts";

export interface HoustonProcess {
  child: ChildProcess;
  /** Parsed JSON log lines so far (stdout). */
  lines: Record<string, any>[];
  /** Everything on stderr (should stay empty). */
  stderr(): string;
  /** Resolves with the port once the "listening" line appears. */
  port: Promise<number>;
  /** Resolves when a log line matches. */
  waitFor(
    match: (l: Record<string, any>) => boolean,
    what: string,
    ms?: number,
  ): Promise<Record<string, any>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  kill(): void;
}

/** The environment a child gets: only what is named, plus PATH and HOME. */
export function childEnv(env: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env["PATH"] ?? "/usr/bin:/bin",
    HOME: process.env["HOME"] ?? "/tmp",
    ...env,
  };
}

/**
 * Starts `command` in the repository; by default the Dockerfile's and `npm start`'s: the
 * build in dist/, which `npm test` emits before the tests run.
 */
export function startHouston(
  env: Record<string, string>,
  command: string[] = [process.execPath, "dist/src/main.js"],
): HoustonProcess {
  const script = command.find((a) => a.endsWith(".js"));
  if (script && !existsSync(join(REPO_ROOT, script)))
    throw new Error(`${script} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(command[0]!, command.slice(1), {
    cwd: REPO_ROOT,
    env: childEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: Record<string, any>[] = [];
  const waiters: { match: (l: Record<string, any>) => boolean; resolve: (l: Record<string, any>) => void }[] =
    [];
  let err = "";
  let partial = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    teeToSuiteLog(chunk);
    partial += chunk;
    const parts = partial.split("\n");
    partial = parts.pop()!;
    for (const raw of parts) {
      if (!raw.trim()) continue;
      let l: Record<string, any>;
      try {
        l = JSON.parse(raw) as Record<string, any>;
      } catch {
        l = { msg: raw, notJson: true };
      }
      lines.push(l);
      for (const w of waiters.filter((x) => x.match(l))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(l);
      }
    }
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => {
    teeToSuiteLog(chunk);
    err += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  const waitFor: HoustonProcess["waitFor"] = (match, what, ms = 30_000) => {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what}; stderr: ${err.slice(-2000)}`)),
        ms,
      );
      waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void exited.then(({ code }) => {
        clearTimeout(timer);
        reject(new Error(`Houston exited (${code}) before ${what}; stderr: ${err.slice(-2000)}`));
      });
    });
  };
  // Generous: tsx compiling the sources on a loaded CI machine can take a while.
  const port = waitFor((l) => typeof l["port"] === "number", "the listening line", 90_000).then(
    (l) => l["port"] as number,
  );
  port.catch(() => {});
  return {
    child,
    lines,
    stderr: () => err,
    port,
    waitFor,
    exited,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    },
  };
}

export interface SlowPagerDuty {
  server: string;
  /** A CA file for NODE_EXTRA_CA_CERTS (pdjs in the child uses Node's default agent). */
  caFile: string;
  /** Resolves when the first event arrives. */
  arrived: Promise<void>;
  /** Events answered 202, in order. */
  answered: unknown[];
  close(): Promise<void>;
}

/** Answers every POST /v2/enqueue with 202, but only after delayMs. */
export async function startSlowPagerDuty(dir: string, delayMs: number): Promise<SlowPagerDuty> {
  const { private: key, cert } = await generate([{ name: "commonName", value: "127.0.0.1" }], {
    keyType: "ec",
    curve: "P-256",
    algorithm: "sha256",
    notBeforeDate: new Date(Date.now() - 3_600_000),
    notAfterDate: new Date(Date.now() + 86_400_000),
    extensions: [
      { name: "basicConstraints", cA: true },
      { name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] },
    ],
  });
  const caFile = join(dir, "pagerduty-ca.pem");
  writeFileSync(caFile, cert);
  let arrive!: () => void;
  const arrived = new Promise<void>((resolve) => (arrive = resolve));
  const answered: unknown[] = [];
  const server: Server = createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      arrive();
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { dedup_key?: string };
      setTimeout(() => {
        answered.push(body);
        res.writeHead(202, { "content-type": "application/json" });
        res.end(JSON.stringify({ status: "success", message: "Event processed", dedup_key: body.dedup_key }));
      }, delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    server: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    caFile,
    arrived,
    answered,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
