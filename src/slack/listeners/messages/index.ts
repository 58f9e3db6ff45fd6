import type { App } from "@slack/bolt";
import type { ListenerDeps } from "../types.ts";
import { directMessage } from "./direct-message.ts";

export function registerMessages(app: App, deps: ListenerDeps): void {
  app.message(directMessage(deps));
}
