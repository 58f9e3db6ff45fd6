// The shape every digest in reports/ shares: compute (SQL) → render (pure) → chart (only when
// asked for and there is something to show). A report file supplies the three steps.
import { chartPng, type ChartSpec } from "./chart.ts";
import { digestTitle } from "./common.ts";
import type { DigestPeriods } from "./period.ts";
import type { Digest, DigestRequest, Report, ReportName } from "./types.ts";

export function defineReport<D extends { periods: DigestPeriods }>(r: {
  name: ReportName;
  /** For help and subscription listings ("Daily SLA"). */
  title: string;
  /** The digest's own title before the period ("SLA digest"). */
  heading: string;
  compute(req: DigestRequest): Promise<D>;
  render(data: D, title: string): Digest;
  chart(data: D): ChartSpec | undefined;
}): Report {
  return {
    name: r.name,
    title: r.title,
    async build(req) {
      const data = await r.compute(req);
      const digest = r.render(data, digestTitle(r.heading, req, data.periods));
      if (req.chart && !digest.empty) {
        const spec = r.chart(data);
        if (spec) digest.chart = await chartPng(spec);
      }
      return digest;
    },
  };
}
