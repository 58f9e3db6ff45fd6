// Refresh history: a dataset's latest updates — when each landed, its rows, whether its
// schema changed, and the gap since the update before against the dataset's usual gap (the
// median of the last 30 days), so a late refresh stands out. Gaps are per namespace: a
// table kept in two warehouses (prod and staging) is two series.
import { type DatasetUpdate, datasetUpdateHistory } from "../src/db/queries/dataset-figures.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { sparkline } from "../src/digests/sparkline.ts";
import { formatDuration } from "../src/questions/format.ts";
import { defineMeasure } from "../src/questions/measure.ts";
import { formatDateTime } from "../src/time/index.ts";

export interface RefreshHistoryData {
  /** Newest first. */
  updates: (DatasetUpdate & { late: boolean })[];
  usualGapMs: number | null;
}

/** Updates shown when the question says no number. */
const DEFAULT_SHOWN = 10;
/** A gap this many times the usual one is a late refresh. */
const LATE_FACTOR = 1.5;

export default defineMeasure<RefreshHistoryData>({
  id: "refresh-history",
  title: "Refresh history",
  summary: "a dataset's latest updates: when, how many rows, schema changes, and gaps longer than usual",
  examples: [
    "show the refresh history of analytics.dim_customers",
    "last 5 updates of analytics.fct_orders",
    "how often does raw.fx_rates get updated",
  ],
  measure: "refresh_history",
  subjects: ["dataset"],
  defaultDays: null,
  openingWindow: "asked",
  async compute(ctx, frame, window) {
    const h = await datasetUpdateHistory(ctx.store, frame.subject.name!, {
      from: window.from,
      to: window.to,
      limit: Math.min(frame.rank?.n ?? DEFAULT_SHOWN, 100),
    });
    const usual = h.usualGapMs;
    return {
      usualGapMs: usual,
      updates: h.updates.map((u) => ({
        ...u,
        late: usual !== null && u.gapMs !== null && u.gapMs > usual * LATE_FACTOR,
      })),
    };
  },
  render(d, frame, ctx, window) {
    const b = new AnswerBuilder();
    const name = code(frame.subject.name!);
    const late = d.updates.filter((u) => u.late).length;
    const namespaces = new Set(d.updates.map((u) => u.namespace)).size;
    if (!d.updates.length)
      b.headline(`${name} has no updates${window.given ? ` ${esc(window.label)}` : ""}.`);
    else
      b.headline(
        `${name}: the last ${d.updates.length} update${d.updates.length === 1 ? "" : "s"}` +
          `${d.usualGapMs !== null ? `, usually ${formatDuration(d.usualGapMs)} apart` : ""}` +
          `${late ? ` — ${late} came late (gap over ${LATE_FACTOR}× usual)` : ""}.`,
      );
    // Pictures of each series (one per namespace), oldest first: rows per update and gaps.
    for (const ns of new Set(d.updates.map((u) => u.namespace))) {
      const oldest = d.updates.filter((u) => u.namespace === ns).reverse();
      const pics: string[] = [];
      if (oldest.filter((u) => u.rows !== null).length > 1)
        pics.push(`rows \`${sparkline(oldest.map((u) => u.rows))}\``);
      if (oldest.filter((u) => u.gapMs !== null).length > 1)
        pics.push(`gaps \`${sparkline(oldest.map((u) => u.gapMs))}\``);
      if (pics.length)
        b.section(`${namespaces > 1 ? `In ${code(ns)}, oldest` : "Oldest"} to newest: ${pics.join(" · ")}`);
    }
    b.list(
      "Newest first",
      d.updates.map((u) => {
        const parts = [formatDateTime(u.at, ctx.timezone, ctx.now)];
        // A table kept in several places (prod and staging warehouses) is several series.
        if (namespaces > 1) parts.push(`in ${code(u.namespace)}`);
        if (u.rows !== null) parts.push(`${u.rows.toLocaleString("en-US")} rows`);
        if (u.gapMs !== null)
          parts.push(`${formatDuration(u.gapMs)} after the one before${u.late ? " ⚠️ late" : ""}`);
        if (u.schemaChanged) parts.push("schema changed");
        return parts.join(", ");
      }),
      d.updates.length,
    );
    return b.from("from the dataset's recorded updates");
  },
});
