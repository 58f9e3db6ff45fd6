// Acknowledge: triggered → acknowledged by the clicker. The same transaction enqueues the
// message update and (for paged incidents) PagerDuty's acknowledge with the same dedup_key.
import { acknowledgeIncident } from "../../../monitors/incidents.ts";
import { transitionButton } from "./shared.ts";
import type { IncidentActionDeps } from "./types.ts";

export const acknowledgeButton = (deps: IncidentActionDeps) =>
  transitionButton(deps, "acknowledge", acknowledgeIncident);
