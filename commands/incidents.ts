// Incidents: what is open right now (`/houston incidents`): each open incident with its
// state, how long it has been open, who acknowledged it, and the silenced ones apart (they
// are recorded but neither posted nor paged). Reads the partial index on open incidents
// (listOpenIncidents, with the incidents' other statements in src/monitors/incidents.ts).
import { type IncidentRecord, listOpenIncidents } from "../src/monitors/incidents.ts";
import { AnswerBuilder, esc } from "../src/questions/answer.ts";
import { formatSpan } from "../src/monitors/format.ts";
import { defineMeasure, frameOfWords } from "../src/questions/measure.ts";
import { formatDateTime } from "../src/time/index.ts";
import { who } from "../src/slack/incident-message.ts";

/** Open incidents read; more are counted, not listed. */
const LIMIT = 500;

const LIST =
  /^(?:(?:list|show)(?: me)? )?(?:the |all |our )?(?:open |active |current |ongoing )?incidents?\b(?! (?:report|history))|\b(?:which|what|any) (?:incidents? (?:are |is )?(?:open|active|ongoing)|(?:open|active|ongoing) incidents?)\b/;

export interface IncidentsData {
  /** Open incidents that are posted and paged, newest first. */
  open: IncidentRecord[];
  /** Open incidents under a silence: recorded, neither posted nor paged. */
  silenced: IncidentRecord[];
  /** Of `open`, those someone acknowledged. */
  acknowledged: number;
  /** LIMIT incidents were read: there may be more, older ones. */
  truncated: boolean;
}

export default defineMeasure<IncidentsData>({
  id: "incidents",
  title: "Incidents",
  summary: "open incidents with their state, age and who acknowledged them; silenced ones noted",
  examples: ["incidents", "which incidents are open?", "show open incidents"],
  measure: "incidents",
  subjects: ["fleet"],
  // Open now, whenever they opened.
  defaultDays: null,
  byDefault: "those open now",
  openingWindow: "asked",
  keywords: {
    match: (q) => (LIST.test(q.text) ? 0.9 : 0),
    frame: async (_ctx, q) => frameOfWords(q, "incidents", { kind: "fleet" }),
  },
  async compute(ctx) {
    const all = await listOpenIncidents(ctx.store, { limit: LIMIT });
    const open = all.filter((i) => !i.silenced);
    return {
      open,
      silenced: all.filter((i) => i.silenced),
      acknowledged: open.filter((i) => i.state === "acknowledged").length,
      truncated: all.length === LIMIT,
    };
  },
  render(d, _frame, ctx) {
    const now = ctx.now;
    const tz = ctx.timezone;
    const b = new AnswerBuilder();
    if (d.open.length + d.silenced.length === 0) {
      b.headline("No open incidents. :white_check_mark:");
      return b.from("from Houston's incidents");
    }
    const n = (x: number) => x.toLocaleString("en-US");
    const { open, silenced, acknowledged } = d;
    b.headline(
      `${n(open.length)} open incident${open.length === 1 ? "" : "s"}` +
        (open.length
          ? ` (${n(open.length - acknowledged)} unacknowledged, ${n(acknowledged)} acknowledged)`
          : "") +
        (silenced.length ? `, ${n(silenced.length)} silenced` : "") +
        (d.truncated ? ` — the newest ${n(LIMIT)} shown` : ""),
    );
    const age = (at: Date) => formatSpan(Math.max(0, now.getTime() - at.getTime()));
    const line = (i: IncidentRecord) => {
      const state =
        i.state === "acknowledged"
          ? `:eyes: acknowledged by ${who(i.acknowledgedBy)} ${age(i.acknowledgedAt ?? i.openedAt)} ago`
          : ":rotating_light: unacknowledged";
      return `${esc(i.summary.length > 200 ? `${i.summary.slice(0, 199)}…` : i.summary)} — ${state}, open ${age(i.openedAt)} (since ${formatDateTime(i.openedAt, tz, now)}) · ${esc(i.severity)}`;
    };
    b.list("Open", open.map(line), 20);
    b.list(
      "Silenced (recorded, not posted or paged)",
      silenced.map((i) => `:zzz: ${line(i)}`),
      10,
    );
    return b.from(
      "from Houston's incidents; `/houston silences` lists the silences, the buttons on each incident message acknowledge or resolve it",
    );
  },
});
