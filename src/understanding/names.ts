// Every name Houston knows — jobs with and without their group prefix, groups, datasets,
// suppliers, artifacts, projects, tests, owners, environments — and how a question's words
// find them: across spaces, underscores, hyphens, dots and case ("gl summary",
// "GL_Summary"), without the prefix ("gl_summary" for finance_close.gl_summary), by a run
// of the name's words ("sales dashboard"), and through typos (an edit distance that grows
// with the word's length). Matching is in memory over a few thousand names; the store
// refreshes the lists (see loadNames / NameDirectory below), so every replica sees a name
// ingested through any other within the refresh interval.
import type { SubjectKind } from "./frame.ts";

export interface KnownName {
  kind: SubjectKind;
  name: string;
}

export interface NameCandidate extends KnownName {
  /** 0..1: how completely and exactly the words matched the name. */
  score: number;
  /** True when every word of the name (or of its unprefixed form) was matched. */
  whole: boolean;
  /** True when every word matched as typed (no typo corrected, no clipped word completed). */
  exact: boolean;
}

/** A run of question tokens [start, end) that names something. */
export interface Mention {
  start: number;
  end: number;
  /** Best first; several when the words fit more than one name. */
  candidates: NameCandidate[];
}

/** Splits a name or a question into lowercase words: "finance_close.GL-Summary" → finance close gl summary. */
export function words(s: string): string[] {
  return s
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((w) => w.length > 0);
}

interface Variant {
  ref: KnownName;
  words: string[];
  /** The words run together ("glsummary"), for a name typed as one word. */
  joined: string;
  /** The full name's words (true), or a shorter form (false): matched whole, it still counts. */
  full: boolean;
}

/** Words too common in questions to name anything on their own. */
const GENERIC = new Set([
  "job",
  "jobs",
  "data",
  "daily",
  "hourly",
  "run",
  "runs",
  "model",
  "models",
  "test",
  "tests",
  "the",
  "a",
  "of",
  "to",
  "in",
  "on",
  "and",
  "or",
  "is",
  "it",
  "dashboard",
  "dashboards",
  "report",
  "status",
  "load",
  "sync",
  "extract",
  "raw",
  "stg",
  "staging",
  "dev",
  "prod",
  "qa",
  "warehouse",
  "pipeline",
  "pipelines",
  "features",
  "feature",
  "summary",
  "close",
  "orders",
  "order",
  "id",
  "min",
  "max",
  "count",
  "row",
  "rows",
  "null",
  "not",
  "unique",
  "values",
  "accepted",
  "s3",
  "new",
  "last",
  "all",
  "ops",
  "snapshot",
]);

/** Question words that end a name read out of order only when the name is said whole ("billing nightly run"). */
const TRAILING = new Set([
  "run",
  "runs",
  "job",
  "jobs",
  "data",
  "pipeline",
  "pipelines",
  "dag",
  "dags",
  "status",
]);

const START_STOP = new Set([
  "is",
  "are",
  "was",
  "the",
  "a",
  "an",
  "of",
  "to",
  "in",
  "on",
  "at",
  "by",
  "for",
  "and",
  "or",
  "it",
  "did",
  "does",
  "has",
  "with",
]);

/** Damerau–Levenshtein distance, stopping early past `max`. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const prev2: number[] = new Array(b.length + 1).fill(0);
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur: number[] = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, prev2[j - 2]! + 1);
      cur.push(v);
      rowMin = Math.min(rowMin, v);
    }
    if (rowMin > max) return max + 1;
    for (let j = 0; j <= b.length; j++) prev2[j] = prev[j]!;
    prev = cur;
  }
  return prev[b.length]!;
}

/** Typos allowed in a word of this length: none for short words, where they change meaning. */
export function typoBudget(length: number): number {
  return length >= 9 ? 2 : length >= 5 ? 1 : 0;
}

/** "refreshes" → "refresh", "kpis" → "kpi": plurals name the same thing. */
export function stem(w: string): string {
  if (w.length > 4 && /(?:ches|shes|sses|xes)$/.test(w)) return w.slice(0, -2);
  if (w.length > 3 && w.endsWith("s") && !w.endsWith("ss")) return w.slice(0, -1);
  return w;
}

/** How well a question word matches a name word: 1 exact (or its plural), <1 with a typo, 0 not at all. */
function wordMatch(q: string, n: string): number {
  if (q === n || stem(q) === stem(n)) return 1;
  const budget = typoBudget(Math.min(q.length, n.length));
  if (budget === 0) return 0;
  const d = editDistance(q, n, budget);
  return d <= budget ? 1 - 0.15 * d : 0;
}

export class NameIndex {
  private readonly variants: Variant[] = [];
  /** Name word → variants containing it (exact); fuzzy lookups scan `vocabulary`. */
  private readonly byWord = new Map<string, Variant[]>();
  private readonly vocabulary: string[];
  /** Variants of two or more words by the length of their words run together. */
  private readonly byJoinedLength = new Map<number, Variant[]>();
  /** How many distinct names use each word: a word in many names names none of them. */
  private readonly spread = new Map<string, number>();
  readonly names: KnownName[];

  constructor(names: KnownName[]) {
    this.names = names;
    const seen = new Set<string>();
    for (const ref of names) {
      const key = `${ref.kind}\0${ref.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      for (const v of variantsOf(ref)) {
        this.variants.push(v);
        if (v.words.length > 1) {
          let list = this.byJoinedLength.get(v.joined.length);
          if (!list) this.byJoinedLength.set(v.joined.length, (list = []));
          list.push(v);
        }
        for (const w of new Set(v.words)) {
          let list = this.byWord.get(w);
          if (!list) this.byWord.set(w, (list = []));
          list.push(v);
        }
      }
      for (const w of new Set(words(ref.name))) this.spread.set(w, (this.spread.get(w) ?? 0) + 1);
    }
    this.vocabulary = [...this.byWord.keys()];
  }

  /** Name words a question word may be (itself, or typo-close ones), with their match quality. */
  private near(q: string): [string, number][] {
    const out: [string, number][] = [];
    const known = this.byWord.has(q);
    if (known) out.push([q, 1]);
    const budget = typoBudget(q.length);
    const qs = stem(q);
    for (const w of this.vocabulary) {
      if (w === q) continue;
      if (stem(w) === qs) {
        out.push([w, 1]);
        continue;
      }
      // A clipped word: "reval" for revaluation, "rec" inside "revenue rec".
      if (q.length >= 3 && w.length > q.length + 1 && w.startsWith(q)) {
        out.push([w, 0.8]);
        continue;
      }
      // A word some name has as typed is that word, not a typo of another.
      if (known) continue;
      if (budget === 0 || Math.abs(w.length - q.length) > budget) continue;
      const m = wordMatch(q, w);
      if (m > 0) out.push([w, m]);
    }
    return out;
  }

  /** True when the word belongs to some name (exactly). */
  knows(word: string): boolean {
    return this.byWord.has(word);
  }

  /**
   * The names the question's words mention: for each start, the longest run of words that
   * matches a run of a name's words; the strongest non-overlapping mentions win.
   */
  find(tokens: string[]): Mention[] {
    const found: Mention[] = [];
    const nearCache = tokens.map((t) => new Map(this.near(t)));
    for (let i = 0; i < tokens.length; i++) {
      // A question's small words never start a name ("is revenue recognition" is not
      // expression_is_true_revenue_recognition_balanced), though they may sit inside one.
      if (START_STOP.has(tokens[i]!)) continue;
      const starts = new Set<Variant>();
      for (const [w] of nearCache[i]!) for (const v of this.byWord.get(w) ?? []) starts.add(v);
      // One question word may be several name words run together: "glsummary".
      for (const v of this.joinedCandidates(tokens[i]!)) starts.add(v);
      const best = new Map<string, { end: number; cand: NameCandidate }>();
      for (const v of starts) {
        const m = this.matchAt(tokens, nearCache, i, v);
        if (!m) continue;
        const key = `${v.ref.kind}\0${v.ref.name}`;
        const prev = best.get(key);
        // The reading of a name that covers more of the question's words wins, then the
        // closer one ("marketing dashboard refresh" is the whole of the job, not its short form).
        if (!prev || m.end > prev.end || (m.end === prev.end && m.cand.score > prev.cand.score + 1e-9))
          best.set(key, m);
      }
      if (best.size === 0) continue;
      const ends = [...best.values()];
      const maxEnd = Math.max(...ends.map((e) => e.end));
      // Keep the candidates that reach furthest; shorter readings lose to longer ones.
      const candidates = ends
        .filter((e) => e.end === maxEnd)
        .map((e) => e.cand)
        .sort((a, b) => b.score - a.score || Number(b.whole) - Number(a.whole));
      found.push({ start: i, end: maxEnd, candidates });
    }
    // Strongest first (longest, then best score), without overlaps.
    found.sort(
      (a, b) => b.end - b.start - (a.end - a.start) || b.candidates[0]!.score - a.candidates[0]!.score,
    );
    const taken = new Array<boolean>(tokens.length).fill(false);
    const out: Mention[] = [];
    for (const m of found) {
      let free = true;
      for (let k = m.start; k < m.end; k++) if (taken[k]) free = false;
      if (!free) continue;
      for (let k = m.start; k < m.end; k++) taken[k] = true;
      out.push(m);
    }
    return out.sort((a, b) => a.start - b.start);
  }

  private joinedCandidates(token: string): Variant[] {
    if (token.length < 6) return [];
    const out: Variant[] = [];
    // Only names whose joined length is within the typo budget can match.
    for (let len = token.length - 2; len <= token.length + 2; len++)
      for (const v of this.byJoinedLength.get(len) ?? []) if (wordMatch(token, v.joined) > 0) out.push(v);
    return out;
  }

  /** Matches question words from `i` against a run of the variant's words. */
  private matchAt(
    tokens: string[],
    near: Map<string, number>[],
    i: number,
    v: Variant,
  ): { end: number; cand: NameCandidate } | undefined {
    // A single question word that is the whole variant run together.
    if (v.words.length > 1 && tokens[i]!.length >= 6 && Math.abs(v.joined.length - tokens[i]!.length) <= 2) {
      const m = wordMatch(tokens[i]!, v.joined);
      if (m > 0)
        return {
          end: i + 1,
          cand: { ...v.ref, score: scoreOf(v, v.words.length, m), whole: true, exact: m === 1 },
        };
    }
    let bestRun: { start: number; len: number; quality: number; exact: boolean } | undefined;
    for (let j = 0; j < v.words.length; j++) {
      let len = 0;
      let quality = 0;
      let exact = true;
      while (i + len < tokens.length && j + len < v.words.length) {
        const q = near[i + len]!.get(v.words[j + len]!);
        if (!q) break;
        quality += q;
        if (q < 1) exact = false;
        len++;
      }
      if (len > 0 && (!bestRun || len > bestRun.len || (len === bestRun.len && quality > bestRun.quality)))
        bestRun = { start: j, len, quality, exact };
    }
    let runWords = bestRun ? v.words.slice(bestRun.start, bestRun.start + bestRun.len) : [];
    // The name's words in another order: "crm sync" for orders_daily.sync_orders_to_crm. Two
    // words at least, and a little weaker than the same words in order.
    const used = new Set<number>();
    let quality = 0;
    let exact = true;
    // Worth trying only when the next word is in the name too and the run in order did not
    // already take every word it could.
    const most = Math.min(v.words.length, tokens.length - i);
    const nextFits = i + 1 < tokens.length && v.words.some((w) => near[i + 1]!.has(w));
    for (let k = i; nextFits && (bestRun?.len ?? 0) < most && k < tokens.length; k++) {
      let found = -1;
      let q = 0;
      for (let j = 0; j < v.words.length; j++) {
        const m = used.has(j) ? undefined : near[k]!.get(v.words[j]!);
        if (m && m > q) [found, q] = [j, m];
      }
      if (found < 0) break;
      used.add(found);
      quality += q;
      if (q < 1) exact = false;
    }
    // A common word at the end belongs to the question, not to the name: "did billing
    // nightly run" asks whether the group ran, it does not name billing_nightly.invoice_run.
    const taken = [...used];
    while (
      taken.length &&
      taken.length < v.words.length &&
      TRAILING.has(v.words[taken[taken.length - 1]!]!)
    ) {
      used.delete(taken.pop()!);
      quality -= 1;
    }
    // Only as typed (no typo, no clipping), and not common words alone ("count per").
    const usedWords = [...used].map((j) => v.words[j]!);
    if (
      used.size >= 2 &&
      used.size > (bestRun?.len ?? 0) &&
      exact &&
      !usedWords.every((w) => GENERIC.has(w))
    ) {
      bestRun = { start: 0, len: used.size, quality: quality * 0.9, exact };
      runWords = usedWords;
    }
    if (!bestRun) return undefined;
    const whole = bestRun.len === v.words.length;
    if (!whole) {
      // A part of a name names it only when the part is distinctive: two or more words, or
      // one word that is no common word and belongs to few names.
      if (runWords.length === 1) {
        const w = runWords[0]!;
        // One clipped or mistyped word is not enough to name part of a name ("clicks" is
        // not clickstream_hourly).
        if (bestRun.quality < 1) return undefined;
        if (GENERIC.has(w) || GENERIC.has(stem(w)) || w.length < 4 || (this.spread.get(w) ?? 0) > 6)
          return undefined;
      } else if (runWords.every((w) => GENERIC.has(w))) return undefined;
    } else if (v.words.length === 1 && GENERIC.has(v.words[0]!) && !v.full) return undefined;
    const avgQuality = bestRun.quality / bestRun.len;
    return {
      end: i + bestRun.len,
      cand: { ...v.ref, score: scoreOf(v, bestRun.len, avgQuality), whole, exact: bestRun.exact },
    };
  }
}

function scoreOf(v: Variant, matched: number, quality: number): number {
  const coverage = matched / v.words.length;
  // A whole full name beats a whole short form, which beats a part of a name.
  return coverage * quality * (v.full ? 1 : 0.95);
}

/** The forms a name may be typed in: whole, and without its prefix (group, namespace, path). */
function variantsOf(ref: KnownName): Variant[] {
  const all = words(ref.name);
  const out: Variant[] = [{ ref, words: all, joined: all.join(""), full: true }];
  const seen = new Set([all.join(" ")]);
  const add = (part: string) => {
    const w = words(part);
    const key = w.join(" ");
    if (w.length && !seen.has(key)) {
      seen.add(key);
      out.push({ ref, words: w, joined: w.join(""), full: false });
    }
  };
  // "finance_close.gl_summary" → "gl_summary"; "s3://landing/acme_payments/settlements" → its last part.
  const dot = ref.name.lastIndexOf(".");
  if (dot > 0) add(ref.name.slice(dot + 1));
  const slash = ref.name.lastIndexOf("/");
  if (slash > 0) add(ref.name.slice(slash + 1));
  // "PRJ-FINANCE" → "finance"; "@finance-data" → "finance data".
  if (ref.kind === "project") add(ref.name.replace(/^[A-Za-z]+-/, ""));
  return out;
}
