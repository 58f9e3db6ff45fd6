#!/usr/bin/env node
// The `houston` command. It runs the build in dist/ when that build is at least as new as
// every source file (`npm start` and `npm test` build it); otherwise it compiles the
// TypeScript sources at run time through tsx: seconds slower to start, but never stale.
import { pathToFileURL } from "node:url";
import { BUILT_CLI, buildIsFresh } from "./build-state.mjs";

let cli;
if (buildIsFresh()) ({ cli } = await import(pathToFileURL(BUILT_CLI).href));
else {
  const { register } = await import("tsx/esm/api");
  register();
  ({ cli } = await import("../src/cli/main.ts"));
}
cli(process.argv.slice(2));
