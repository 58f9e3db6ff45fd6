#!/usr/bin/env node
// The `houston` command: TypeScript sources run through tsx, so there is no build step.
import { register } from "tsx/esm/api";

register();
const { cli } = await import("../src/cli/main.ts");
cli(process.argv.slice(2));
