// Owner: who owns a job, a dataset or a group's jobs, and where they are reached (the
// Slack channel). A dataset with no owner of its own is answered with the owner of the job
// that writes it, said as such; nothing declared is said plainly, with how to declare it.
import { type DatasetOwner, datasetOwners, type JobOwner, jobOwners } from "../src/db/queries/owners.ts";
import { AnswerBuilder, code, esc } from "../src/questions/answer.ts";
import { defineMeasure } from "../src/questions/measure.ts";

export interface OwnerData {
  jobs: JobOwner[];
  datasets: DatasetOwner[];
  /** A group's owners, with how many of its jobs each owns ("(none)" for jobs without one). */
  byOwner: { owner: string; jobs: number }[];
}

export default defineMeasure<OwnerData>({
  id: "owner",
  title: "Owner",
  summary: "who owns a job, a dataset or a group's jobs, and their Slack channel",
  examples: ["who owns gl_summary?", "owner of analytics.fct_orders", "who owns the finance_close jobs"],
  measure: "owner",
  subjects: ["job", "dataset", "group"],
  defaultDays: null,
  // Ownership has no period: the opening says none.
  openingWindow: "asked",
  async compute(ctx, frame) {
    const name = frame.subject.name!;
    const data: OwnerData = { jobs: [], datasets: [], byOwner: [] };
    if (frame.subject.kind === "dataset") data.datasets = await datasetOwners(ctx.store, name);
    else if (frame.subject.kind === "job") data.jobs = await jobOwners(ctx.store, { job: name });
    else {
      data.jobs = await jobOwners(ctx.store, { group: name });
      const counts = new Map<string, number>();
      for (const j of data.jobs) counts.set(j.owner ?? "(none)", (counts.get(j.owner ?? "(none)") ?? 0) + 1);
      data.byOwner = [...counts]
        .map(([owner, jobs]) => ({ owner, jobs }))
        .sort((a, b) => b.jobs - a.jobs || a.owner.localeCompare(b.owner));
    }
    return data;
  },
  render(d, frame) {
    const b = new AnswerBuilder();
    const name = frame.subject.name!;
    const declare = "declare `owner:` for it in houston.yml";
    if (frame.subject.kind === "dataset") {
      const owned = d.datasets.filter((x) => x.owner);
      if (owned.length)
        b.headline(`${code(name)} is owned by ${[...new Set(owned.map((x) => esc(x.owner!)))].join(", ")}.`);
      else {
        const producer = d.datasets.find((x) => x.producer?.owner)?.producer;
        b.headline(
          producer
            ? `${code(name)} has no owner of its own; ${code(producer.job)}, which writes it, is owned by ${esc(producer.owner!)}.`
            : `No owner is known for ${code(name)}: ${declare}.`,
        );
      }
      const supplier = d.datasets.find((x) => x.supplier)?.supplier;
      if (supplier) b.section(`It is delivered by the supplier ${code(supplier)}.`);
      return b.from("from the datasets Houston knows");
    }
    if (frame.subject.kind === "job") {
      const owners = [...new Set(d.jobs.map((j) => j.owner).filter((o): o is string => !!o))];
      const channels = [...new Set(d.jobs.map((j) => j.channel).filter((c): c is string => !!c))];
      b.headline(
        owners.length
          ? `${code(name)} is owned by ${owners.map(esc).join(", ")}${channels.length ? ` (alerts go to ${channels.map(esc).join(", ")})` : ""}.`
          : `No owner is known for ${code(name)}: ${declare}.`,
      );
      return b.from("from the jobs Houston knows");
    }
    const top = d.byOwner.filter((o) => o.owner !== "(none)");
    b.headline(
      top.length
        ? `The ${code(name)} jobs are owned by ${top.map((o) => `${esc(o.owner)} (${o.jobs} job${o.jobs === 1 ? "" : "s"})`).join(", ")}.`
        : `No owner is known for the jobs of ${code(name)}: ${declare}.`,
    );
    const none = d.byOwner.find((o) => o.owner === "(none)");
    if (none && top.length) b.section(`${none.jobs} of its jobs have no owner.`);
    return b.from(`from ${d.jobs.length} job${d.jobs.length === 1 ? "" : "s"} of the group`);
  },
});
