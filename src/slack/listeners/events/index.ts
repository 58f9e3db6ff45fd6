import type { App } from "@slack/bolt";
import type { ListenerDeps } from "../types.ts";
import { appHomeOpened } from "./app-home-opened.ts";
import { appMention } from "./app-mention.ts";

export function registerEvents(app: App, deps: ListenerDeps): void {
  app.event("app_mention", appMention(deps));
  if (deps.home) app.event("app_home_opened", appHomeOpened(deps.home));
}
