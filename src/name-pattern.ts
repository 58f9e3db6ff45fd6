// Name patterns (`finance_*`, `*.fct_*`): one matcher for silences, houston.yml `match:`
// rules and maintenance windows. A RegExp built from a pattern backtracks exponentially on
// `**********q` (a stored silence once stalled the service every minute, across restarts),
// so this matcher never builds one: the pattern is split at `*` once, and matching walks the
// name left to right, taking each literal piece at its first occurrence. For patterns whose
// only wildcard is `*`, the leftmost occurrence is always a safe choice (any later match can
// be moved left without losing the rest), so no step is ever undone: time is linear in the
// name for each piece, O(name × pieces) at worst, with pieces bounded by the pattern length.

/** Longest pattern accepted from Slack or houston.yml; names are far shorter. */
export const MAX_NAME_PATTERN_LENGTH = 200;

export interface NamePattern {
  readonly source: string;
  /** True when the whole name matches (`*` = any run of characters, case-insensitive). */
  test(name: string): boolean;
}

/** Why a pattern cannot be used, or undefined when it can. */
export function namePatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return "is empty";
  if (pattern.length > MAX_NAME_PATTERN_LENGTH)
    return `is ${pattern.length} characters long; at most ${MAX_NAME_PATTERN_LENGTH} are allowed`;
  return undefined;
}

/** Compiles `pattern` once; test() is then cheap enough to run for every breach every minute. */
export function compileNamePattern(pattern: string): NamePattern {
  const pieces = pattern.toLowerCase().split("*");
  const prefix = pieces[0]!;
  // A pattern without `*` is one piece: the whole name must equal it.
  if (pieces.length === 1) return { source: pattern, test: (name) => name.toLowerCase() === prefix };
  const suffix = pieces[pieces.length - 1]!;
  const middle = pieces.slice(1, -1).filter((p) => p.length > 0);
  const minLength = prefix.length + suffix.length + middle.reduce((n, p) => n + p.length, 0);
  return {
    source: pattern,
    test(name) {
      const s = name.toLowerCase();
      if (s.length < minLength) return false;
      if (!s.startsWith(prefix) || !s.endsWith(suffix)) return false;
      let at = prefix.length;
      const end = s.length - suffix.length;
      for (const piece of middle) {
        const found = s.indexOf(piece, at);
        if (found < 0 || found + piece.length > end) return false;
        at = found + piece.length;
      }
      return at <= end;
    },
  };
}

const cache = new Map<string, NamePattern>();

/** compileNamePattern with a small cache: monitor passes test the same few patterns each minute. */
export function namePattern(pattern: string): NamePattern {
  let p = cache.get(pattern);
  if (!p) {
    if (cache.size >= 1000) cache.clear();
    p = compileNamePattern(pattern);
    cache.set(pattern, p);
  }
  return p;
}
