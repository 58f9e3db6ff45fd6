// Acknowledge: triggered → acknowledged by the clicker. The same transaction enqueues the
// message update and (for paged incidents) PagerDuty's acknowledge with the same dedup_key;
// the outbox is woken so the message changes within a second or so.
import { acknowledgeIncident } from "../../../monitors/incidents.ts";
import { alreadyNote, BROKEN_BUTTON, type ButtonArgs, FAILED, incidentIdOf, note } from "./shared.ts";
import type { IncidentActionDeps } from "./types.ts";

export function acknowledgeButton(deps: IncidentActionDeps) {
  return async (args: ButtonArgs) => {
    await args.ack();
    const id = incidentIdOf(args);
    if (id === undefined) return note(args, BROKEN_BUTTON);
    const log = deps.log.child({ action: "acknowledge", incidentId: id, userId: args.body.user.id });
    try {
      const r = await acknowledgeIncident(deps.store, {
        id,
        by: args.body.user.id,
        at: deps.now(),
        source: "slack",
      });
      if (r.status === "updated") {
        deps.wake();
        log.info("incident acknowledged from Slack");
        return;
      }
      if (r.status === "unknown") return note(args, BROKEN_BUTTON);
      return note(args, alreadyNote(r.incident!, deps.timezone));
    } catch (err) {
      log.error({ err }, "acknowledging an incident from Slack failed");
      return note(args, FAILED);
    }
  };
}
