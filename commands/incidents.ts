// Incidents: what is open right now (`/houston incidents`): each open incident with its
// state, how long it has been open, who acknowledged it, and the silenced ones apart (they
// are recorded but neither posted nor paged). Reads the partial index on open incidents.
import { listOpenIncidents } from "../src/monitors/incidents.ts";
import { AnswerBuilder, esc } from "../src/questions/answer.ts";
import { formatSpan } from "../src/monitors/format.ts";
import { formatDateTime } from "../src/time/index.ts";
import type { Command } from "../src/questions/types.ts";
import { who } from "../src/slack/incident-message.ts";

/** Open incidents read; more are counted, not listed. */
const LIMIT = 500;

const LIST =
  /^(?:(?:list|show)(?: me)? )?(?:the |all |our )?(?:open |active |current |ongoing )?incidents?\b(?! (?:report|history))|\b(?:which|what|any) (?:incidents? (?:are |is )?(?:open|active|ongoing)|(?:open|active|ongoing) incidents?)\b/;

const command: Command = {
  id: "incidents",
  title: "Incidents",
  summary: "open incidents with their state, age and who acknowledged them; silenced ones noted",
  examples: ["incidents", "which incidents are open?", "show open incidents"],
  match(q) {
    return LIST.test(q.text) ? 0.9 : 0;
  },
  async run(ctx) {
    const now = ctx.now;
    const tz = ctx.timezone;
    const open = await listOpenIncidents(ctx.store, { limit: LIMIT });
    const b = new AnswerBuilder();
    if (open.length === 0) {
      b.headline("No open incidents. :white_check_mark:");
      return b.from("from Houston's incidents").build();
    }
    const loud = open.filter((i) => !i.silenced);
    const quiet = open.filter((i) => i.silenced);
    const acked = loud.filter((i) => i.state === "acknowledged").length;
    const n = (x: number) => x.toLocaleString("en-US");
    b.headline(
      `${n(loud.length)} open incident${loud.length === 1 ? "" : "s"}` +
        (loud.length ? ` (${n(loud.length - acked)} unacknowledged, ${n(acked)} acknowledged)` : "") +
        (quiet.length ? `, ${n(quiet.length)} silenced` : "") +
        (open.length === LIMIT ? ` — the newest ${n(LIMIT)} shown` : ""),
    );
    const age = (d: Date) => formatSpan(Math.max(0, now.getTime() - d.getTime()));
    const line = (i: (typeof open)[number]) => {
      const state =
        i.state === "acknowledged"
          ? `:eyes: acknowledged by ${who(i.acknowledgedBy)} ${age(i.acknowledgedAt ?? i.openedAt)} ago`
          : ":rotating_light: unacknowledged";
      return `${esc(i.summary.length > 200 ? `${i.summary.slice(0, 199)}…` : i.summary)} — ${state}, open ${age(i.openedAt)} (since ${formatDateTime(i.openedAt, tz, now)}) · ${esc(i.severity)}`;
    };
    b.list("Open", loud.map(line), 20);
    b.list(
      "Silenced (recorded, not posted or paged)",
      quiet.map((i) => `:zzz: ${line(i)}`),
      10,
    );
    return b
      .from(
        "from Houston's incidents; `/houston silences` lists the silences, the buttons on each incident message acknowledge or resolve it",
      )
      .build();
  },
};

export default command;
