import type { App } from "@slack/bolt";
import type { ListenerDeps } from "../types.ts";
import { houstonCommand } from "./houston.ts";

/** /houston, and variants such as /houston-staging for a second installation. */
const HOUSTON = /^\/houston(?:[-_][a-z0-9]+)?$/;

export function registerCommands(app: App, deps: ListenerDeps): void {
  app.command(HOUSTON, houstonCommand(deps));
}
