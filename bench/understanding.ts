// `npm run bench:understanding`: how well the parser understands the held-out questions
// (test/corpus/heldout.jsonl, written before the parser and never used to tune it), and the
// development set for comparison. Prints the held-out file's hash, frame accuracy,
// clarification rate, confidently-wrong rate and parse time. `--errors` lists the
// development set's mistakes (never the held-out set's: reading them would tune on them).
import { loadCorpus, score, scoreFollowUps } from "../test/corpus/score.ts";

const pct = (n: number, d: number) => `${((100 * n) / Math.max(d, 1)).toFixed(1)} %`;

function report(file: string): void {
  const { lines, sha256 } = loadCorpus(file);
  // Warm up the parser (JIT, name indexes, chrono-node) with a whole pass, so times reflect
  // a running service rather than the first questions of a cold process.
  score(lines);
  const s = score(lines);
  console.log(`${file}  sha256 ${sha256}`);
  console.log(
    `  ${s.n} questions: frame accuracy ${pct(s.correct, s.n)}, clarified ${pct(s.clarified, s.n)}, ` +
      `confidently wrong ${pct(s.confidentlyWrong, s.n)}; parse p50 ${s.p50.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms`,
  );
  const f = scoreFollowUps(lines);
  if (f.n) console.log(`  follow-ups: ${f.correct} of ${f.n} change the right slot (${pct(f.correct, f.n)})`);
  if (file !== "heldout.jsonl" && process.argv.includes("--errors"))
    for (const w of f.wrong) console.log(`  ✗ follow-up ${w}`);
  const bySlot = new Map<string, number>();
  for (const o of s.outcomes) for (const d of o.diff) bySlot.set(d, (bySlot.get(d) ?? 0) + 1);
  console.log(`  wrong slots: ${[...bySlot].map(([k, v]) => `${k} ${v}`).join(", ") || "none"}`);
  if (file !== "heldout.jsonl" && process.argv.includes("--errors"))
    for (const o of s.outcomes.filter((x) => x.diff.length))
      console.log(
        `  ✗ [${o.diff.join(",")}] ${o.line.q}\n      want ${JSON.stringify(o.line.frame)}\n      got  ${JSON.stringify(o.got)} (${o.confidence.toFixed(2)})`,
      );
}

report("heldout.jsonl");
report("dev.jsonl");
report("dev2.jsonl");
report("dev3.jsonl");
report("dev4.jsonl");
report("dev5.jsonl");
report("dev6.jsonl");
