// `houston run --job NAME [--group G] [--namespace N] [--env E] -- COMMAND…`: runs a
// command exactly as a shell would (stdio inherited, exit code passed through) and
// records the run in Houston: a "running" event when it starts, a terminal event with
// exit code, CPU seconds and peak memory when it ends. Houston being down, slow or
// misconfigured never changes what the job does; it costs at most `sendTimeoutMs` after
// the job ends and one warning line per event that could not be recorded.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import type { HoustonEvent, RunEvent } from "../ingest/events.ts";
import { toNativeEvent } from "../ingest/serialize.ts";

export const DEFAULT_RUN_NAMESPACE = "cron";
export const DEFAULT_SEND_TIMEOUT_MS = 5000;
/** Set in the command's environment so the job can attach its own events (datasets, tests) to the run. */
export const RUN_ID_ENV = "HOUSTON_RUN_ID";

export interface SendOptions {
  /** Aborted when the caller gives up (time budget spent, wrapper interrupted). */
  signal?: AbortSignal;
}

export interface RunSink {
  /** Records the events; throws (rejects) on failure. */
  send(events: HoustonEvent[], options?: SendOptions): Promise<void>;
  /** Where events go (a URL), for warnings. */
  readonly target?: string;
}

export interface RunWrapOptions {
  job: string;
  group?: string;
  /** Default "cron". */
  namespace?: string;
  environment?: string;
  /** argv, spawned WITHOUT a shell (command[0] is the program). */
  command: string[];
  sink: RunSink;
  /** Where Houston's own warnings go (never the child's output). */
  stderr: NodeJS.WritableStream;
  /** Injectable clock for startedAt / endedAt / eventTime. */
  now?: () => Date;
  /** Default 5000: the most a dead Houston can delay the job's end (one budget for everything sent after exit). */
  sendTimeoutMs?: number;
  /** Where procfs is mounted; default "/proc". Tests point it elsewhere to check the no-procfs path. */
  procRoot?: string;
}

export class UsageError extends Error {
  override name = "UsageError";
}

const FORWARDED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

type Outcome =
  | { kind: "exit"; code: number | null; signal: NodeJS.Signals | null }
  | { kind: "spawn-error"; error: NodeJS.ErrnoException };

/** Runs the command with stdio inherited (output passes through untouched), records start and end, returns the exit code to exit with. */
export async function runWrapped(opts: RunWrapOptions): Promise<number> {
  const [program, ...args] = opts.command;
  if (program === undefined || program === "") throw new UsageError(usageMessage("missing the command"));
  const now = opts.now ?? (() => new Date());
  const budgetMs = opts.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
  const procRoot = opts.procRoot ?? "/proc";
  const runId = randomUUID();
  const base = {
    type: "run" as const,
    namespace: opts.namespace ?? DEFAULT_RUN_NAMESPACE,
    job: opts.job,
    runId,
    ...(opts.group !== undefined && { group: opts.group }),
    ...(opts.environment !== undefined && { environment: opts.environment }),
  };
  const warn = (what: string, err: unknown) => {
    opts.stderr.write(
      `houston: warning: ${what} of ${opts.job} run ${runId} not recorded: ${oneLine(errorMessage(err))}\n`,
    );
  };

  const cpuBefore = readChildCpuTicks(procRoot);

  // A signal for the wrapper goes to the child while it runs; once it has exited, a
  // signal cuts the remaining sends short instead (the job is over, don't hang around).
  let child: ChildProcess | undefined;
  let exited = false;
  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (!exited && child?.pid !== undefined) {
      child.kill(signal);
    } else if (exited) {
      interrupt.abort(new Error(`interrupted by ${signal}`));
    }
  };
  for (const s of FORWARDED_SIGNALS) process.on(s, onSignal);

  try {
    const startedAt = now();
    let outcome: Promise<Outcome>;
    try {
      child = spawn(program, args, { stdio: "inherit", env: { ...process.env, [RUN_ID_ENV]: runId } });
      outcome = waitForChild(child);
    } catch (err) {
      // Synchronous spawn failures (e.g. a NUL byte in an argument).
      outcome = Promise.resolve({ kind: "spawn-error", error: err as NodeJS.ErrnoException });
    }
    const memory = child?.pid !== undefined ? PeakMemory.start(procRoot, child.pid) : undefined;

    // Started only after the spawn: the job never waits for Houston.
    const startEvent: RunEvent = {
      ...base,
      id: `${runId}:start`,
      status: "running",
      startedAt,
      eventTime: startedAt,
    };
    const startSent = sendWithin(opts.sink, [startEvent], budgetMs, interrupt.signal).then(
      () => undefined,
      (err: unknown) => warn("start", err),
    );

    const result = await outcome;
    exited = true;
    const endedAt = now();
    const memoryMb = memory?.stop();
    const cpuAfter = readChildCpuTicks(procRoot);
    // getconf (first run only) comes after the snapshot: its own ticks are not counted
    // and it never delays the job's start.
    const cpuSeconds =
      cpuBefore !== undefined && cpuAfter !== undefined && cpuAfter >= cpuBefore
        ? round((cpuAfter - cpuBefore) / clockTicksPerSecond(), 2)
        : undefined;

    let exitCode: number;
    let error: string | undefined;
    if (result.kind === "spawn-error") {
      const { code, reason } = describeSpawnError(result.error);
      exitCode = code;
      error = `could not start ${program}: ${reason}`;
      opts.stderr.write(`houston: ${program}: ${reason}\n`);
    } else if (result.code !== null) {
      exitCode = result.code;
      error = result.code === 0 ? undefined : `exit code ${result.code}`;
    } else {
      const signal = result.signal ?? "SIGKILL";
      exitCode = 128 + (osConstants.signals[signal] ?? 0);
      error = `killed by ${signal}`;
    }

    const endEvent: RunEvent = {
      ...base,
      id: `${runId}:end`,
      status: exitCode === 0 ? "success" : "failed",
      startedAt,
      endedAt,
      exitCode,
      ...(cpuSeconds !== undefined && { cpuSeconds }),
      ...(memoryMb !== undefined && { memoryMb }),
      ...(error !== undefined && { error }),
      eventTime: endedAt,
    };

    // One budget after exit for both: the start send began earlier with the same
    // timeout, so it always settles before the deadline; the end send gets the rest.
    // The end event carries startedAt, so it records the whole run even when the start
    // event was lost.
    const deadline = Date.now() + budgetMs;
    await startSent;
    try {
      await sendWithin(opts.sink, [endEvent], deadline - Date.now(), interrupt.signal);
    } catch (err) {
      warn("end", err);
    }
    return exitCode;
  } finally {
    for (const s of FORWARDED_SIGNALS) process.off(s, onSignal);
  }
}

function waitForChild(child: ChildProcess): Promise<Outcome> {
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve({ kind: "exit", code, signal }));
    // Stays attached: after a successful spawn, 'error' can only mean a failed kill(),
    // and an 'error' event without a listener would crash the wrapper.
    child.on("error", (error: NodeJS.ErrnoException) => {
      if (child.pid === undefined) resolve({ kind: "spawn-error", error });
    });
  });
}

function describeSpawnError(err: NodeJS.ErrnoException): { code: number; reason: string } {
  // The exit codes a shell uses: 127 not found, 126 found but not executable.
  switch (err.code) {
    case "ENOENT":
      return { code: 127, reason: "command not found (ENOENT)" };
    case "EACCES":
      return { code: 126, reason: "permission denied (EACCES)" };
    default:
      return { code: 127, reason: oneLine(err.message) };
  }
}

/** Sends within `ms`; aborts the sink's work (and rejects) on timeout or interruption. */
async function sendWithin(sink: RunSink, events: HoustonEvent[], ms: number, interrupt: AbortSignal) {
  if (interrupt.aborted) throw interrupt.reason;
  if (ms <= 0) throw new Error(`no time left to send to ${sink.target ?? "Houston"}`);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let onInterrupt: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    const stop = (reason: Error) => {
      reject(reason);
      controller.abort(reason);
    };
    // Not unref'd: it is awaited, bounded, and cleared below; unref'ing it would let the
    // process exit mid-await when a sink holds no handle of its own.
    timer = setTimeout(
      () => stop(new Error(`no answer from ${sink.target ?? "Houston"} within ${ms} ms`)),
      ms,
    );
    onInterrupt = () => stop(interrupt.reason instanceof Error ? interrupt.reason : new Error("interrupted"));
    interrupt.addEventListener("abort", onInterrupt, { once: true });
  });
  try {
    const sending = (async () => sink.send(events, { signal: controller.signal }))();
    await Promise.race([sending, stopped]);
  } finally {
    clearTimeout(timer);
    if (onInterrupt) interrupt.removeEventListener("abort", onInterrupt);
  }
}

// ---------------------------------------------------------------------------------
// Resource usage from procfs (Linux). Everything here returns undefined without it.

let cachedTicksPerSecond: number | undefined;

function clockTicksPerSecond(): number {
  if (cachedTicksPerSecond === undefined) {
    cachedTicksPerSecond = 100; // USER_HZ on every mainstream Linux build, used if getconf is unavailable
    try {
      const out = execFileSync("getconf", ["CLK_TCK"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
        timeout: 2000,
      });
      const n = Number(out.trim());
      if (Number.isInteger(n) && n > 0) cachedTicksPerSecond = n;
    } catch {
      // No getconf: keep the fallback above.
    }
  }
  return cachedTicksPerSecond;
}

/**
 * cutime + cstime of this process from /proc/self/stat: CPU ticks of children it has
 * waited for, which include each child's own waited-for descendants. Descendants that
 * were orphaned (daemonised, reparented to init) are not counted; nor are children the
 * wrapper reaps concurrently for other reasons (one wrapped command per process).
 */
function readChildCpuTicks(procRoot: string): number | undefined {
  const stat = readProcFile(`${procRoot}/self/stat`);
  if (stat === undefined) return undefined;
  // Fields after "(comm)" start at field 3 (state); cutime and cstime are fields 16 and 17.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const cutime = Number(fields[13]);
  const cstime = Number(fields[14]);
  return Number.isFinite(cutime) && Number.isFinite(cstime) ? cutime + cstime : undefined;
}

const POLL_MS = 100;
/** The full /proc scan (when task/<tid>/children is unavailable) may use at most ~2% of the poller's time. */
const SCAN_COST_RATIO = 50;
const MIN_SCAN_INTERVAL_MS = 1000;
const MAX_TREE = 512;

/**
 * Peak resident memory of the child and its descendants, sampled every 100 ms:
 * max over samples of max(Σ VmRSS of the live tree, VmHWM of any one process).
 * Both are lower bounds of the tree's true peak. Caveats: a peak in the tree's last
 * <100 ms (or of a descendant that lived <100 ms) may be missed, since /proc/<pid> is
 * gone once the child is reaped; pages shared between processes count once per process.
 * Descendants come from /proc/<pid>/task/<tid>/children (CONFIG_PROC_CHILDREN); without
 * it, from a full /proc ppid scan throttled to ≥1 s and ~2% of the poller's CPU.
 */
class PeakMemory {
  private peakKb = 0;
  private descendants: number[] = [];
  private nextScanAt = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly childrenFiles: boolean;

  private constructor(
    private readonly procRoot: string,
    private readonly rootPid: number,
  ) {
    this.childrenFiles = readProcFile(`${procRoot}/${rootPid}/task/${rootPid}/children`) !== undefined;
    this.sample();
    this.timer = setInterval(() => this.sample(), POLL_MS);
    this.timer.unref(); // never keeps the wrapper alive
  }

  static start(procRoot: string, rootPid: number): PeakMemory | undefined {
    if (readProcFile(`${procRoot}/${rootPid}/status`) === undefined) return undefined;
    return new PeakMemory(procRoot, rootPid);
  }

  /** Stops polling; the peak in MB (1 decimal), or undefined when nothing was measured. */
  stop(): number | undefined {
    clearInterval(this.timer);
    return this.peakKb > 0 ? round(this.peakKb / 1024, 1) : undefined;
  }

  private sample(): void {
    let rssSum = 0;
    let hwmMax = 0;
    for (const pid of [this.rootPid, ...this.findDescendants()]) {
      const status = readProcFile(`${this.procRoot}/${pid}/status`);
      if (status === undefined) continue;
      rssSum += statusKb(status, "VmRSS");
      hwmMax = Math.max(hwmMax, statusKb(status, "VmHWM"));
    }
    this.peakKb = Math.max(this.peakKb, rssSum, hwmMax);
  }

  private findDescendants(): number[] {
    if (this.childrenFiles) return this.walk((pid) => this.childrenFromTasks(pid));
    const t = Date.now();
    if (t >= this.nextScanAt) {
      const byParent = this.scanParents();
      this.descendants = this.walk((pid) => byParent.get(pid) ?? []);
      const cost = Date.now() - t;
      this.nextScanAt = Date.now() + Math.max(MIN_SCAN_INTERVAL_MS, cost * SCAN_COST_RATIO);
    }
    return this.descendants;
  }

  private walk(childrenOf: (pid: number) => number[]): number[] {
    const found: number[] = [];
    const queue = [this.rootPid];
    for (let pid = queue.shift(); pid !== undefined && found.length < MAX_TREE; pid = queue.shift()) {
      for (const c of childrenOf(pid)) {
        found.push(c);
        queue.push(c);
      }
    }
    return found;
  }

  private childrenFromTasks(pid: number): number[] {
    const out: number[] = [];
    for (const tid of readDir(`${this.procRoot}/${pid}/task`)) {
      const text = readProcFile(`${this.procRoot}/${pid}/task/${tid}/children`);
      if (text) for (const c of text.trim().split(/\s+/)) if (c) out.push(Number(c));
    }
    return out;
  }

  private scanParents(): Map<number, number[]> {
    const byParent = new Map<number, number[]>();
    for (const name of readDir(this.procRoot)) {
      if (!/^\d+$/.test(name)) continue;
      const stat = readProcFile(`${this.procRoot}/${name}/stat`);
      if (stat === undefined) continue;
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const siblings = byParent.get(ppid);
      if (siblings) siblings.push(Number(name));
      else byParent.set(ppid, [Number(name)]);
    }
    return byParent;
  }
}

function statusKb(status: string, field: string): number {
  const m = new RegExp(`^${field}:\\s*(\\d+) kB`, "m").exec(status);
  return m ? Number(m[1]) : 0;
}

/** A procfs read; processes come and go between listing and reading, so absence is normal. */
function readProcFile(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}

function readDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch {
    return [];
  }
}

// ---------------------------------------------------------------------------------
// Arguments

const USAGE = [
  "usage: houston run --job NAME [--group GROUP] [--namespace NAMESPACE] [--env ENVIRONMENT] -- COMMAND [ARG...]",
  "  e.g. houston run --job nightly_orders --group finance --env prod -- python etl/orders.py --full",
  "  --namespace defaults to \"cron\". The command runs without a shell: for pipes or &&, use -- sh -c '...'",
].join("\n");

function usageMessage(problem: string): string {
  return `houston run: ${problem}\n${USAGE}`;
}

const FLAGS = {
  "--job": "job",
  "--group": "group",
  "--namespace": "namespace",
  "--env": "environment",
  "--environment": "environment",
} as const;
type Field = (typeof FLAGS)[keyof typeof FLAGS];

/** Parses argv after "run": flags then "--" then the command. Throws a UsageError with a helpful message. */
export function parseRunArgs(argv: string[]): {
  job: string;
  group?: string;
  namespace?: string;
  environment?: string;
  command: string[];
} {
  const values: Partial<Record<Field, string>> = {};
  let command: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      command = argv.slice(i + 1);
      break;
    }
    if (arg === "-h" || arg === "--help") throw new UsageError(USAGE);
    if (!arg.startsWith("-")) {
      const rest = argv.slice(i);
      const dash = rest.indexOf("--");
      const cmd = dash < 0 ? rest : rest.slice(0, dash);
      throw new UsageError(
        usageMessage(`put "--" between the options and the command, e.g. houston run … -- ${cmd.join(" ")}`),
      );
    }
    const eq = arg.indexOf("=");
    const flag = eq < 0 ? arg : arg.slice(0, eq);
    const field = Object.hasOwn(FLAGS, flag) ? FLAGS[flag as keyof typeof FLAGS] : undefined;
    if (field === undefined) throw new UsageError(usageMessage(`unknown option ${flag}`));
    let value: string | undefined;
    if (eq >= 0) {
      value = arg.slice(eq + 1);
    } else {
      value = argv[i + 1];
      if (value === undefined || value.startsWith("--")) {
        throw new UsageError(usageMessage(`${flag} needs a value`));
      }
      i++;
    }
    if (value.trim() === "") throw new UsageError(usageMessage(`${flag} needs a non-empty value`));
    if (values[field] !== undefined) throw new UsageError(usageMessage(`${flag} given twice`));
    values[field] = value;
  }
  if (values.job === undefined) {
    throw new UsageError(usageMessage("missing --job NAME (the pipeline's name in Houston)"));
  }
  if (command === undefined) {
    throw new UsageError(usageMessage('missing "--" and the command to run after it'));
  }
  if (command.length === 0 || command[0] === "") {
    throw new UsageError(usageMessage('missing the command after "--"'));
  }
  return {
    job: values.job,
    ...(values.group !== undefined && { group: values.group }),
    ...(values.namespace !== undefined && { namespace: values.namespace }),
    ...(values.environment !== undefined && { environment: values.environment }),
    command,
  };
}

// ---------------------------------------------------------------------------------
// HTTP sink

/** A sink that POSTs JSON arrays (native events API format, src/ingest/serialize.ts) to `${url}/api/v1/events` with `Authorization: Bearer ${token}`, aborting after timeoutMs; non-2xx → throws with the response body's message. Uses global fetch. */
export function httpSink(
  url: string,
  token: string | undefined,
  timeoutMs: number = DEFAULT_SEND_TIMEOUT_MS,
): RunSink {
  const endpoint = `${url.replace(/\/+$/, "")}/api/v1/events`;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  return {
    target: endpoint,
    async send(events, options) {
      const body = JSON.stringify(events.map(toNativeEvent)); // the native events API's snake_case JSON
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = options?.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
      let status: number;
      let statusText: string;
      let text: string;
      try {
        const res = await fetch(endpoint, { method: "POST", headers, body, signal });
        status = res.status;
        statusText = res.statusText;
        text = await res.text(); // read even on success so the connection is released
      } catch (err) {
        if (timeout.aborted)
          throw new Error(`no answer from ${endpoint} within ${timeoutMs} ms`, { cause: err });
        if (options?.signal?.aborted) {
          const reason: unknown = options.signal.reason;
          throw reason instanceof Error
            ? reason
            : new Error(`sending to ${endpoint} was cancelled`, { cause: err });
        }
        throw new Error(`cannot reach ${endpoint}: ${fetchFailure(err)}`, { cause: err });
      }
      if (status < 200 || status > 299) {
        throw new Error(
          `${endpoint} answered ${status}: ${responseMessage(text) || statusText || "no message"}`,
        );
      }
    },
  };
}

/** undici reports "fetch failed" with the socket error as `cause` (an AggregateError for multiple addresses). */
function fetchFailure(err: unknown): string {
  const cause = err instanceof Error ? (err.cause as unknown) : undefined;
  if (cause instanceof AggregateError && cause.errors.length > 0)
    return fetchFailure({ cause: cause.errors[0] });
  if (cause instanceof Error) return cause.message || (cause as NodeJS.ErrnoException).code || cause.name;
  if (cause && typeof cause === "object" && "message" in cause) return String(cause.message);
  return errorMessage(err);
}

/** The message of an error body: {error}, {message}, {error: {message}}, plus up to 3 field errors; else the text. */
function responseMessage(body: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return clip(oneLine(body.trim()), 300);
  }
  if (parsed === null || typeof parsed !== "object") return clip(oneLine(body.trim()), 300);
  const o = parsed as Record<string, unknown>;
  const nested =
    o.error && typeof o.error === "object" ? (o.error as Record<string, unknown>).message : undefined;
  const message = [o.error, o.message, nested].find((v): v is string => typeof v === "string") ?? "";
  const fieldErrors = Array.isArray(o.errors)
    ? o.errors
        .slice(0, 3)
        .map((e: unknown) => {
          if (!e || typeof e !== "object") return "";
          const f = e as Record<string, unknown>;
          return typeof f.field === "string" && typeof f.reason === "string" ? `${f.field}: ${f.reason}` : "";
        })
        .filter(Boolean)
    : [];
  const text = [message, ...fieldErrors].filter(Boolean).join("; ");
  return clip(oneLine(text || body.trim()), 300);
}

// ---------------------------------------------------------------------------------

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, " ");
}

function clip(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
