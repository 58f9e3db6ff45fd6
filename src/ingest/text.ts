// What a PostgreSQL text (or jsonb) value cannot hold, for both ingest routes. JSON lets a
// client send both: "\u0000" decodes to NUL, and "\ud800" to half of a surrogate pair that
// is not valid Unicode. Either one reached the store and failed the whole request with a
// 500, which clients retry forever; the routes refuse or drop such strings instead.

/** A code point in the surrogate range: with the `u` flag a well-formed pair is one code point, so only a lone half matches. */
const LONE_SURROGATE = /\p{Cs}/u;
const LONE_SURROGATES = /\p{Cs}/gu;

/** Why PostgreSQL text cannot hold `s`, or undefined when it can. */
export function unstorable(s: string): string | undefined {
  if (s.includes("\u0000")) return "contains a NUL (\\u0000) character, which PostgreSQL text cannot hold";
  if (LONE_SURROGATE.test(s)) {
    return "contains a lone UTF-16 surrogate (e.g. \\ud800 without its pair), which is not valid Unicode";
  }
  return undefined;
}

/** `s` with every NUL and lone surrogate replaced by U+FFFD, for free text worth keeping. */
export function repaired(s: string): string {
  return s.replaceAll("\u0000", "\ufffd").replace(LONE_SURROGATES, "\ufffd");
}

/** At most `max` UTF-16 units of `s`, ending in `...` when cut, never splitting a surrogate pair. */
export function clipText(s: string, max: number): string {
  if (s.length <= max) return s;
  let cut = max - 3;
  const code = s.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--;
  return `${s.slice(0, cut)}...`;
}
