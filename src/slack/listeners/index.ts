// Every Slack listener, registered by kind (one folder per kind, one listener per file).
import type { App } from "@slack/bolt";
import { type IncidentActionDeps, registerActions } from "./actions/index.ts";
import { registerCommands } from "./commands/index.ts";
import { registerEvents } from "./events/index.ts";
import { registerMessages } from "./messages/index.ts";
import { registerReadings } from "./readings/index.ts";
import type { ListenerDeps } from "./types.ts";

export type { ListenerDeps } from "./types.ts";

export function registerListeners(app: App, deps: ListenerDeps, actions?: IncidentActionDeps): void {
  registerCommands(app, deps);
  registerEvents(app, deps);
  registerMessages(app, deps);
  registerReadings(app, deps);
  // The incident buttons need the store and the outbox: absent in apps built without them.
  if (actions) registerActions(app, actions);
}
