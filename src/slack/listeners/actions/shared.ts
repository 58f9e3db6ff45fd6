// Shared by the three incident buttons: which incident a click is about, and the ephemeral
// note a click gets when there is nothing to do (only the clicker sees it; the message itself
// is updated through the outbox).
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import type { Store } from "../../../db/client.ts";
import type { IncidentAction, IncidentChange, IncidentRecord } from "../../../monitors/incidents.ts";
import { formatAt } from "../../../monitors/format.ts";
import { who } from "../../incident-message.ts";
import type { IncidentActionDeps } from "./types.ts";

export type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/** The incident id a button carries (its value), or undefined for a malformed one. */
export function incidentIdOf(args: ButtonArgs): number | undefined {
  const v = args.action.value;
  return v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
}

/** A note to the clicker only; a failure to send it is logged, never thrown. */
export async function note(args: ButtonArgs, text: string): Promise<void> {
  try {
    await args.respond({ response_type: "ephemeral", replace_original: false, text });
  } catch (err) {
    args.logger.warn(`could not send an ephemeral note about an incident button: ${(err as Error).message}`);
  }
}

/** Why a click changed nothing: the incident is already past that state. */
export function alreadyNote(i: IncidentRecord, tz: string): string {
  if (i.state === "resolved")
    return i.resolvedBy === "houston"
      ? `This incident already resolved itself at ${formatAt(i.resolvedAt ?? i.lastSeenAt, tz)} (the condition cleared). Nothing to do.`
      : `This incident was already resolved by ${who(i.resolvedBy)} at ${formatAt(i.resolvedAt ?? i.lastSeenAt, tz)}. Nothing to do.`;
  if (i.state === "acknowledged")
    return `Already acknowledged by ${who(i.acknowledgedBy)} at ${formatAt(i.acknowledgedAt ?? i.lastSeenAt, tz)}.`;
  return "Nothing changed.";
}

export const BROKEN_BUTTON =
  ":warning: That button does not name an incident Houston knows. Try `/houston incidents`.";
export const FAILED =
  ":warning: Houston could not record that (the error is in its log). Try again in a moment.";

/**
 * A button that moves an incident to another state (Acknowledge, Resolve): ack at once, run
 * the transition as the clicker (it enqueues the message update and PagerDuty's event in one
 * transaction), wake the outbox so the message changes within a second or so, and tell the
 * clicker privately when the click came too late or the button is broken.
 */
export function transitionButton(
  deps: IncidentActionDeps,
  action: "acknowledge" | "resolve",
  transition: (store: Store, a: IncidentAction) => Promise<IncidentChange>,
) {
  const done = action === "acknowledge" ? "acknowledged" : "resolved";
  return async (args: ButtonArgs) => {
    await args.ack();
    const id = incidentIdOf(args);
    if (id === undefined) return note(args, BROKEN_BUTTON);
    const log = deps.log.child({ action, incidentId: id, userId: args.body.user.id });
    try {
      const r = await transition(deps.store, { id, by: args.body.user.id, at: deps.now(), source: "slack" });
      if (r.status === "updated") {
        deps.wake();
        log.info(`incident ${done} from Slack`);
        return;
      }
      if (r.status === "unknown") return note(args, BROKEN_BUTTON);
      return note(args, alreadyNote(r.incident!, deps.timezone));
    } catch (err) {
      log.error({ err }, `${action} of an incident from Slack failed`);
      return note(args, FAILED);
    }
  };
}
