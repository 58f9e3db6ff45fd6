// Silence 1h: silences the incident's subject (its job, or its dataset) for an hour from the
// click. Open incidents it covers stop reminding and their messages show it; new breaches of
// the subject are recorded but neither posted nor paged until it ends.
import { sql } from "drizzle-orm";
import type { Store } from "../../../db/client.ts";
import { formatAt } from "../../../monitors/format.ts";
import {
  getIncident,
  type IncidentRecord,
  silence,
  type SilenceSubjectType,
} from "../../../monitors/incidents.ts";
import { code } from "../../../questions/answer.ts";
import { alreadyNote, BROKEN_BUTTON, type ButtonArgs, FAILED, incidentIdOf, note } from "./shared.ts";
import type { IncidentActionDeps } from "./types.ts";

export const SILENCE_BUTTON_MS = 3_600_000;

/** What a silence of this incident is about: its job or dataset by qualified name. */
export async function silenceSubjectOf(
  store: Store,
  i: IncidentRecord,
): Promise<{ subjectType: SilenceSubjectType; subject: string; label: string }> {
  if (i.jobId !== null) {
    const [j] = await store.query<{ namespace: string; name: string }>(
      sql`SELECT namespace, name FROM jobs WHERE id = ${i.jobId}`,
    );
    if (j) return { subjectType: "job", subject: `${j.namespace}/${j.name}`, label: j.name };
  }
  if (i.datasetId !== null) {
    const [d] = await store.query<{ namespace: string; name: string }>(
      sql`SELECT namespace, name FROM datasets WHERE id = ${i.datasetId}`,
    );
    if (d) return { subjectType: "dataset", subject: `${d.namespace}/${d.name}`, label: d.name };
  }
  return {
    subjectType: i.subjectType === "dataset" ? "dataset" : "job",
    subject: i.subject,
    label: i.subject,
  };
}

export function silenceButton(deps: IncidentActionDeps) {
  return async (args: ButtonArgs) => {
    await args.ack();
    const id = incidentIdOf(args);
    if (id === undefined) return note(args, BROKEN_BUTTON);
    const log = deps.log.child({ action: "silence", incidentId: id, userId: args.body.user.id });
    try {
      const inc = await getIncident(deps.store, { id });
      if (!inc) return note(args, BROKEN_BUTTON);
      if (inc.state === "resolved") return note(args, alreadyNote(inc, deps.timezone));
      const at = deps.now();
      const subject = await silenceSubjectOf(deps.store, inc);
      const s = await silence(deps.store, {
        subjectType: subject.subjectType,
        subject: subject.subject,
        at,
        until: new Date(at.getTime() + SILENCE_BUTTON_MS),
        reason: `Silence 1h on incident ${inc.id} from Slack`,
        by: args.body.user.id,
      });
      deps.wake();
      log.info({ silenceId: s.id, subject: subject.subject }, "subject silenced for 1h from Slack");
      return note(
        args,
        `:zzz: Silenced ${subject.subjectType} ${code(subject.label)} until ${formatAt(s.endsAt, deps.timezone)}: ` +
          `breaches are recorded but not posted or paged. \`/houston unsilence ${subject.label}\` ends it early.`,
      );
    } catch (err) {
      log.error({ err }, "silencing from Slack failed");
      return note(args, FAILED);
    }
  };
}
