// SLA attainment: over a day or a week (the SLA digest's periods), for the fleet, a group or
// an environment — expected runs and how many ran and started on time, missed runs, failed
// runs, datasets past their freshness SLA, supplier deliveries late or missing, and whether
// the SLAs were met. The figures are the daily SLA digest's (reports/sla.ts): one
// computation, asked in chat or posted in the morning.
import { computeSla } from "../reports/sla.ts";
import { periodLabel } from "../src/digests/period.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { formatDuration } from "../src/questions/format.ts";
import { defineMeasure, digestPeriodOf } from "../src/questions/measure.ts";

export interface SlaAnswerData {
  /** The local days computed: "Sat 21 Nov 2026" or a week. */
  period: string;
  days: 1 | 7;
  expected: number;
  ran: number;
  missed: number;
  /** Runs that started after their due time (slot + grace). */
  late: number;
  /** Share of expected runs that started on time (%), and its usual level. */
  onTimePct: number | null;
  usualOnTimePct: number | null;
  failures: number;
  datasetsWithSla: number;
  stale: { name: string; ageMs: number; slaMs: number }[];
  deliveriesDue: number;
  deliveriesBad: number;
  /** Delivery figures are left out for a group (deliveries belong to no pipeline). */
  deliveriesShown: boolean;
  missedJobs: { name: string; slots: number }[];
  lateStarts: { name: string; delayMs: number }[];
  failing: { name: string; failures: number }[];
  /** Met: nothing missed, late, failed or stale, and no delivery late or missing. */
  met: boolean;
}

export default defineMeasure<SlaAnswerData>({
  id: "sla",
  title: "SLA attainment",
  summary:
    "whether runs ran and started on time, data stayed fresh and deliveries came in, over a day or a week",
  examples: [
    "did we meet our data SLAs yesterday?",
    "sla attainment this week for finance_close",
    "sla breaches in prod last week",
  ],
  measure: "sla",
  subjects: ["fleet", "group", "environment"],
  defaultDays: 1,
  async compute(ctx, frame, window) {
    const { date, days } = digestPeriodOf(window, ctx.now, ctx.timezone);
    const group = frame.subject.kind === "group" ? frame.subject.name : undefined;
    const environment =
      frame.environment ?? (frame.subject.kind === "environment" ? frame.subject.name : undefined);
    const d = await computeSla({
      store: ctx.store,
      date,
      days,
      timezone: ctx.timezone,
      chart: false,
      ...(group ? { group } : {}),
      ...(environment ? { environment } : {}),
    });
    const late = d.lateCount.value;
    const bad = d.deliveries.shown ? d.deliveries.bad.value : 0;
    return {
      period: periodLabel(d.periods.period),
      days,
      expected: d.expected.value,
      ran: d.ran.value,
      missed: d.missed.value,
      late,
      onTimePct: d.onTimePct.value,
      usualOnTimePct: d.onTimePct.average,
      failures: d.failures.value,
      datasetsWithSla: d.datasets.withSla,
      stale: d.datasets.staleList.map((s) => ({ name: s.name, ageMs: s.ageMs, slaMs: s.slaMs })),
      deliveriesDue: d.deliveries.due.value,
      deliveriesBad: bad,
      deliveriesShown: d.deliveries.shown,
      missedJobs: d.missedJobs.map((m) => ({ name: m.name, slots: m.slots })),
      lateStarts: d.lateStarts.map((l) => ({ name: l.name, delayMs: l.delayMs })),
      failing: d.failing.map((f) => ({ name: f.name, failures: f.failures })),
      met:
        d.missed.value === 0 &&
        late === 0 &&
        d.failures.value === 0 &&
        d.datasets.stale.value === 0 &&
        bad === 0,
    };
  },
  render(d, frame) {
    const b = new AnswerBuilder();
    const who = frame.subject.kind === "group" ? ` for ${code(frame.subject.name!)}` : "";
    const where = frame.environment ? ` in ${esc(frame.environment)}` : "";
    const pctOf = (v: number | null) => (v === null ? "–" : `${v.toFixed(1)}%`);
    const breaches = [
      d.missed && `${d.missed} missed run${d.missed === 1 ? "" : "s"}`,
      d.late && `${d.late} late start${d.late === 1 ? "" : "s"}`,
      d.failures && `${d.failures} failed run${d.failures === 1 ? "" : "s"}`,
      d.stale.length && `${d.stale.length} stale dataset${d.stale.length === 1 ? "" : "s"}`,
      d.deliveriesBad && `${d.deliveriesBad} late or missing deliver${d.deliveriesBad === 1 ? "y" : "ies"}`,
    ].filter((x): x is string => !!x);
    const yes = frame.polarity === "absent" ? !d.met : d.met;
    const lead = frame.polarity ? `${yes ? "Yes" : "No"} — ` : "";
    b.headline(
      d.met
        ? `${lead}SLAs met${who}${where} on ${esc(d.period)}: ${d.ran} of ${d.expected} expected runs ran, ${pctOf(d.onTimePct)} on time.`
        : `${lead}SLAs missed${who}${where} on ${esc(d.period)}: ${breaches.join(", ")}.`,
    );
    if (!d.met)
      b.section(
        `${d.ran} of ${d.expected} expected runs ran, ${pctOf(d.onTimePct)} on time (usually ${pctOf(d.usualOnTimePct)}).`,
      );
    b.list(
      "Missed",
      d.missedJobs.map((m) => `${code(m.name)} ${m.slots} run${m.slots === 1 ? "" : "s"}`),
    );
    b.list(
      "Started late",
      d.lateStarts.map((l) => `${code(l.name)} ${formatDuration(l.delayMs)} late`),
    );
    b.list(
      "Failed",
      d.failing.map((f) => `${code(f.name)} ${f.failures}×`),
    );
    b.list(
      "Stale data",
      d.stale.map((s) => `${code(s.name)} ${formatDuration(s.ageMs)} old (SLA ${formatDuration(s.slaMs)})`),
    );
    if (d.deliveriesShown && d.deliveriesDue)
      b.section(`Supplier deliveries: ${d.deliveriesDue - d.deliveriesBad} of ${d.deliveriesDue} on time.`);
    return b.from(`from the SLA digest's figures for ${d.days === 1 ? "that day" : "those 7 days"}`);
  },
});
