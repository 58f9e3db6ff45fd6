// Resolve: → resolved by the clicker; Houston will not re-open this breach key. The message
// update and PagerDuty's resolve (same dedup_key) are enqueued in the same transaction.
import { resolveIncident } from "../../../monitors/incidents.ts";
import { alreadyNote, BROKEN_BUTTON, type ButtonArgs, FAILED, incidentIdOf, note } from "./shared.ts";
import type { IncidentActionDeps } from "./types.ts";

export function resolveButton(deps: IncidentActionDeps) {
  return async (args: ButtonArgs) => {
    await args.ack();
    const id = incidentIdOf(args);
    if (id === undefined) return note(args, BROKEN_BUTTON);
    const log = deps.log.child({ action: "resolve", incidentId: id, userId: args.body.user.id });
    try {
      const r = await resolveIncident(deps.store, {
        id,
        by: args.body.user.id,
        at: deps.now(),
        source: "slack",
      });
      if (r.status === "updated") {
        deps.wake();
        log.info("incident resolved from Slack");
        return;
      }
      if (r.status === "unknown") return note(args, BROKEN_BUTTON);
      return note(args, alreadyNote(r.incident!, deps.timezone));
    } catch (err) {
      log.error({ err }, "resolving an incident from Slack failed");
      return note(args, FAILED);
    }
  };
}
