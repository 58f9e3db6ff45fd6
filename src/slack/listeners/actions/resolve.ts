// Resolve: → resolved by the clicker; Houston will not re-open this breach key. The message
// update and PagerDuty's resolve (same dedup_key) are enqueued in the same transaction.
import { resolveIncident } from "../../../monitors/incidents.ts";
import { transitionButton } from "./shared.ts";
import type { IncidentActionDeps } from "./types.ts";

export const resolveButton = (deps: IncidentActionDeps) => transitionButton(deps, "resolve", resolveIncident);
