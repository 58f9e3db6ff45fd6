import type { App } from "@slack/bolt";
import type { ListenerDeps } from "../types.ts";
import { appMention } from "./app-mention.ts";

export function registerEvents(app: App, deps: ListenerDeps): void {
  app.event("app_mention", appMention(deps));
}
