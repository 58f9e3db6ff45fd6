// Houston in its own process for the benchmarks that measure it from outside: the build as
// `npm start` and the image run it (serviceCommand), a free port, and a start that waits for
// /readyz. Its memory is then the service's alone, without the benchmark's client.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
let built = false;

/** `npm run build` (once per process, so the current sources are measured), then the argv that starts the service. */
export function serviceCommand(): string[] {
  if (!built) {
    const r = spawnSync("npm", ["run", "build", "--silent"], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0)
      throw new Error(`npm run build failed: ${(r.stderr || r.stdout).trim().slice(-1000)}`);
    built = true;
  }
  return [process.execPath, path.join(ROOT, "dist/src/main.js")];
}

/** A free TCP port on 127.0.0.1 (bound and released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === "object" && addr ? resolve(addr.port) : reject(new Error("no port"))));
    });
  });
}

/** VmRSS / VmHWM of a process, from /proc (Linux), in bytes; undefined when unreadable. */
export function procMemory(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
    const rss = kb("VmRSS") * 1024;
    const hwm = kb("VmHWM") * 1024;
    return Number.isFinite(rss) ? { rss, hwm } : undefined;
  } catch {
    return undefined;
  }
}

export interface Service {
  pid: number;
  base: string;
  /** SIGTERM, then waits for the exit (the service drains in-flight requests first). */
  stop(): Promise<number | null>;
}

/**
 * Starts `argv` in the repository with only PATH, a scratch HOUSTON_DATA_DIR, PORT,
 * LOG_LEVEL=warn and `env`; resolves once /readyz answers 200 (within 120 s).
 */
export async function startService(argv: string[], env: Record<string, string>): Promise<Service> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "houston-bench-app-"));
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: ROOT,
    env: {
      PATH: process.env["PATH"] ?? "",
      HOUSTON_DATA_DIR: dir,
      PORT: String(port),
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => {
    stderr = (stderr + String(d)).slice(-4000);
  });
  let gone = false;
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      gone = true;
      resolve(code);
    }),
  );
  const script = argv.find((a) => /\.(ts|js)$/.test(a)) ?? argv[0]!;
  const what = path.relative(ROOT, script);
  const base = `http://127.0.0.1:${port}`;
  const deadline = performance.now() + 120_000;
  for (;;) {
    if (gone) throw new Error(`houston (${what}) exited during start-up: ${stderr.trim().slice(-1000)}`);
    if (performance.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`houston (${what}) not ready after 120 s: ${stderr.trim().slice(-1000)}`);
    }
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    pid: child.pid!,
    base,
    async stop() {
      if (!gone) child.kill("SIGTERM");
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
