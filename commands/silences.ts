// Silences: what is silenced right now (`/houston silences`), soonest to end first, with who
// silenced it, until when and why. Maintenance windows from houston.yml are not listed here:
// they live in the file.
import { listSilences } from "../src/monitors/incidents.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { formatSpan } from "../src/monitors/format.ts";
import { formatDateTime } from "../src/time/index.ts";
import type { Command } from "../src/questions/types.ts";
import { who } from "../src/slack/incident-message.ts";

const LIST =
  /^(?:(?:list|show)(?: me)? )?(?:the |all )?(?:active |current )?silences\b|\bwhat(?:'s| is| are)? (?:silenced|muted)\b|\b(?:which|any) (?:jobs?|datasets?|groups?|alerts?|things?) (?:are |is )?(?:silenced|muted)\b|\bactive silences?\b/;

const command: Command = {
  id: "silences",
  acts: true,
  title: "Silences",
  summary: "active silences: what is silenced, by whom, until when and why",
  examples: ["silences", "what is silenced?", "which jobs are silenced?"],
  match(q) {
    return LIST.test(q.text) ? 0.9 : 0;
  },
  async run(ctx) {
    const now = ctx.now;
    const tz = ctx.timezone;
    const active = await listSilences(ctx.store, now);
    const b = new AnswerBuilder();
    if (active.length === 0) {
      b.headline("Nothing is silenced.");
      b.section("Silence something with `/houston silence <job|dataset|group> for 2h [reason]`.");
      return b.build();
    }
    b.headline(`${active.length} active silence${active.length === 1 ? "" : "s"}`);
    b.list(
      "",
      active.map(
        (s) =>
          `${esc(s.subjectType)} ${code(s.subject)} until ${formatDateTime(s.endsAt, tz, now)} ` +
          `(${formatSpan(s.endsAt.getTime() - now.getTime())} left) — by ${who(s.createdBy)}` +
          (s.reason ? `: _${esc(s.reason)}_` : ""),
      ),
      30,
    );
    return b
      .from(
        "breaches of silenced subjects are recorded but not posted or paged; `/houston unsilence <name>` ends a silence early",
      )
      .build();
  },
};

export default command;
