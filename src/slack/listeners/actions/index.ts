import type { App, BlockButtonAction } from "@slack/bolt";
import { INCIDENT_ACTIONS } from "../../incident-message.ts";
import { acknowledgeButton } from "./acknowledge.ts";
import { resolveButton } from "./resolve.ts";
import { silenceButton } from "./silence.ts";
import type { IncidentActionDeps } from "./types.ts";

export type { IncidentActionDeps } from "./types.ts";

/** The buttons on incident messages (block_actions). */
export function registerActions(app: App, deps: IncidentActionDeps): void {
  app.action<BlockButtonAction>(INCIDENT_ACTIONS.acknowledge, acknowledgeButton(deps));
  app.action<BlockButtonAction>(INCIDENT_ACTIONS.resolve, resolveButton(deps));
  app.action<BlockButtonAction>(INCIDENT_ACTIONS.silence, silenceButton(deps));
}
