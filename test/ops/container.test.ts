// What can be checked of the container without a Docker engine: the Dockerfile lints
// clean, its image would hold everything Houston reads at runtime (sources, commands/,
// reports/, migrations/, bin/, and every package imported, from the production
// dependencies), its CMD and HEALTHCHECK work when run from the repository exactly as
// written (with the image's ENV), and docker-compose.yml wires Houston to Postgres 15.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { validate } from "dockerfile-utils";
import { parse } from "yaml";
import { REPO_ROOT } from "../helpers/fixtures.ts";
import { childEnv, startHouston } from "./process.ts";

const DOCKERFILE = readFileSync(join(REPO_ROOT, "Dockerfile"), "utf8");

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions of the Dockerfile's last stage (the runtime image), continuations joined. */
function runtimeStage(text: string): Instruction[] {
  const joined = text
    .split("\n")
    .filter((l) => !/^\s*#/.test(l))
    .join("\n")
    .replace(/\\\n/g, " ");
  const all = joined
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => {
      const m = /^(\S+)\s+(.*)$/.exec(l)!;
      return { keyword: m[1]!.toUpperCase(), args: m[2]!.trim() };
    });
  const from = all.map((i) => i.keyword).lastIndexOf("FROM");
  return all.slice(from);
}

function envOf(stage: Instruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of stage.filter((x) => x.keyword === "ENV")) {
    for (const m of i.args.matchAll(/([A-Z_][A-Z0-9_]*)=("[^"]*"|\S+)/g))
      env[m[1]!] = m[2]!.replace(/^"|"$/g, "");
  }
  return env;
}

/** An exec-form (JSON array) command, as Docker runs it. */
function execForm(args: string): string[] {
  const json = args.slice(args.indexOf("["));
  const cmd = JSON.parse(json) as unknown;
  assert.ok(Array.isArray(cmd) && cmd.every((x) => typeof x === "string"), `exec form: ${args}`);
  return cmd as string[];
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mjs|js)$/.test(n)) out.push(p);
  }
  return out;
}

describe("the container image", () => {
  const stage = runtimeStage(DOCKERFILE);

  it("lints clean with dockerfile-utils", () => {
    const problems = validate(DOCKERFILE).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
    assert.deepEqual(problems, []);
  });

  it("runs as a non-root user, on Node 24 LTS, with a health check and PORT", () => {
    assert.match(stage[0]!.args, /^node:24[-.\w]*$/);
    assert.ok(DOCKERFILE.split("\n").filter((l) => /^FROM /.test(l)).length >= 2, "multi-stage");
    const user = stage.filter((i) => i.keyword === "USER").at(-1);
    assert.ok(user && !/^(root|0)$/.test(user.args), "USER is not root");
    assert.ok(stage.some((i) => i.keyword === "HEALTHCHECK" && i.args.includes("/healthz")));
    assert.equal(envOf(stage)["PORT"], "3000");
    assert.ok(stage.some((i) => i.keyword === "EXPOSE" && i.args === "3000"));
  });

  it("copies everything Houston reads at runtime, and .dockerignore keeps it in the context", () => {
    const copied = stage
      .filter((i) => i.keyword === "COPY" && !i.args.startsWith("--from"))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    for (const src of copied) assert.ok(existsSync(join(REPO_ROOT, src)), `${src} exists`);
    for (const needed of ["package.json", "bin", "src", "commands", "reports", "migrations"]) {
      assert.ok(copied.includes(needed), `${needed} is copied`);
    }
    assert.ok(
      stage.some((i) => i.keyword === "COPY" && /--from=deps \/app\/node_modules/.test(i.args)),
      "node_modules from the deps stage",
    );
    assert.ok(
      stage.some((i) => i.keyword === "COPY" && /--from=build \/app\/dist \.\/dist/.test(i.args)),
      "the service's build (dist/) from the build stage",
    );
    assert.match(DOCKERFILE, /^RUN npm run build$/m, "the build stage runs the same build as npm start");
    const ignored = readFileSync(join(REPO_ROOT, ".dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith("#"));
    for (const needed of [...copied, "package-lock.json"])
      assert.ok(!ignored.includes(needed), `${needed} not ignored`);
    for (const kept of ["node_modules", ".git", ".houston"])
      assert.ok(ignored.includes(kept), `${kept} ignored`);
  });

  it("has every package the runtime imports in the production dependencies (npm ci --omit=dev)", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    const builtins = new Set(builtinModules);
    const missing = new Map<string, string>();
    for (const dir of ["src", "commands", "reports", "bin"]) {
      for (const file of sourceFiles(join(REPO_ROOT, dir))) {
        const text = readFileSync(file, "utf8");
        const specifiers = [
          ...[...text.matchAll(/^import (?!type )[^;]*?from "([^"]+)"/gms)].map((m) => m[1]!),
          ...[...text.matchAll(/^import "([^"]+)"/gm)].map((m) => m[1]!),
          ...[...text.matchAll(/import\("([^"]+)"\)/g)].map((m) => m[1]!),
          // Files resolved from packages (the chart font).
          ...[...text.matchAll(/"((?:@[\w.-]+\/)?[\w.-]+)\/[^"]+\.(?:ttf|otf|woff2?)"/g)].map((m) => m[1]!),
        ];
        for (const s of specifiers) {
          if (s.startsWith(".") || s.startsWith("node:") || builtins.has(s)) continue;
          const name = s.startsWith("@") ? s.split("/").slice(0, 2).join("/") : s.split("/")[0]!;
          if (!(name in pkg.dependencies)) missing.set(name, file.slice(REPO_ROOT.length + 1));
        }
      }
    }
    assert.deepEqual(Object.fromEntries(missing), {}, "move these to dependencies");
    assert.ok("tsx" in pkg.dependencies, "tsx runs the houston CLI (bin/) from the sources in the image");
  });

  it(
    "starts with the image's CMD as written, answers /healthz and its HEALTHCHECK, and exits 0 on SIGTERM",
    { timeout: 120_000 },
    async () => {
      const cmd = execForm(stage.filter((i) => i.keyword === "CMD").at(-1)!.args);
      const healthcheck = execForm(stage.find((i) => i.keyword === "HEALTHCHECK")!.args);
      assert.equal(healthcheck[0], "node");
      const dataDir = mkdtempSync(join(tmpdir(), "houston-image-"));
      // The image's environment, with what a container would mount or publish differently.
      const env = { ...envOf(stage), HOUSTON_DATA_DIR: dataDir, PORT: "0" };
      assert.equal(cmd[0], "node", "resolved on PATH like in the image");
      const houston = startHouston(env, cmd);
      try {
        const port = await houston.port;
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        assert.equal(res.status, 200);
        assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
        const probe = spawnSync(healthcheck[0]!, healthcheck.slice(1), {
          env: childEnv({ PORT: String(port) }),
          timeout: 10_000,
        });
        assert.equal(probe.status, 0, "HEALTHCHECK passes while Houston is up");
        // Migrations ran at start (the embedded store in HOUSTON_DATA_DIR).
        assert.ok(readdirSync(dataDir).length > 0);

        const signalled = performance.now();
        houston.child.kill("SIGTERM");
        const exit = await houston.exited;
        assert.equal(exit.code, 0, houston.stderr());
        assert.ok(exit.at - signalled < 10_000);
        assert.equal(houston.stderr(), "");
        const down = spawnSync(healthcheck[0]!, healthcheck.slice(1), {
          env: childEnv({ PORT: String(port) }),
          timeout: 10_000,
        });
        assert.equal(down.status, 1, "HEALTHCHECK fails once Houston is down");
      } finally {
        houston.kill();
        rmSync(dataDir, { recursive: true, force: true });
      }
    },
  );
});

/**
 * docker-compose.yml as Compose reads it with `env` (a .env file or the shell): `${VAR}`,
 * `${VAR:-default}` and `${VAR-default}` substituted, `$$` an escaped `$`.
 */
function composeWith(env: Record<string, string>): any {
  const text = readFileSync(join(REPO_ROOT, "docker-compose.yml"), "utf8").replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)-([^}]*))?\}/g,
    (whole, name: string | undefined, colon: string | undefined, fallback: string | undefined) => {
      if (whole === "$$") return "$";
      const v = env[name!];
      if (fallback === undefined) return v ?? "";
      return v === undefined || (colon === ":" && v === "") ? fallback : v;
    },
  );
  return parse(text);
}

describe("docker-compose.yml", () => {
  const compose = composeWith({});
  const config = readFileSync(join(REPO_ROOT, "src", "config.ts"), "utf8");

  it("takes the PostgreSQL password from POSTGRES_PASSWORD, for the database and Houston alike", () => {
    for (const [env, password] of [
      [{}, "houston"],
      [{ POSTGRES_PASSWORD: "" }, "houston"],
      [{ POSTGRES_PASSWORD: "9f1c2e7ab04d5c3e8f60a1b2" }, "9f1c2e7ab04d5c3e8f60a1b2"],
    ] as const) {
      const c = composeWith(env);
      assert.equal(c.services.postgres.environment.POSTGRES_PASSWORD, password);
      assert.equal(new URL(c.services.houston.environment.DATABASE_URL).password, password);
    }
  });

  it("runs Houston from this Dockerfile on PostgreSQL 15 with a volume and health checks", () => {
    const pg = compose.services.postgres;
    const houston = compose.services.houston;
    assert.equal(pg.image, "postgres:15");
    assert.ok(pg.healthcheck?.test, "postgres health check");
    const volume = String(pg.volumes[0]).split(":")[0]!;
    assert.ok(volume in compose.volumes, "a named volume for the data");
    assert.equal(houston.build, ".");
    assert.equal(houston.depends_on.postgres.condition, "service_healthy");
    const url = new URL(houston.environment.DATABASE_URL);
    assert.equal(url.protocol, "postgres:");
    assert.equal(url.hostname, "postgres");
    assert.equal(url.username, pg.environment.POSTGRES_USER);
    assert.equal(url.password, pg.environment.POSTGRES_PASSWORD);
    assert.equal(url.pathname, `/${pg.environment.POSTGRES_DB}`);
    assert.ok(houston.healthcheck?.test.join(" ").includes("/readyz"));
    assert.ok(houston.ports.some((p: string) => p.endsWith(`:${houston.environment.PORT}`)));
  });

  it("only sets variables Houston reads", () => {
    for (const name of Object.keys(compose.services.houston.environment)) {
      assert.ok(config.includes(`"${name}"`), `${name} is read by src/config.ts`);
    }
  });
});
