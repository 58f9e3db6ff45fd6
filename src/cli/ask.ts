// `houston ask "<question>"`: the same router and families as Slack, answered in the
// terminal. Answers are written for Slack, so their emoji codes (:x:) become the Unicode
// symbols a terminal shows; everything else is toTerminal()'s plain text.
import type { Logger } from "pino";
import type { Store } from "../db/client.ts";
import { toTerminal } from "../questions/answer.ts";
import { loadCommands } from "../questions/registry.ts";
import { ask } from "../questions/router.ts";
import type { AskContext, Command } from "../questions/types.ts";

/** Slack emoji codes the answers use → what a terminal shows. Unknown codes stay as written. */
export const EMOJI: Readonly<Record<string, string>> = {
  white_check_mark: "✅",
  heavy_check_mark: "✔️",
  x: "❌",
  warning: "⚠️",
  arrows_counterclockwise: "🔄",
  leftwards_arrow_with_hook: "↩️",
  white_circle: "⚪",
  large_green_circle: "🟢",
  large_yellow_circle: "🟡",
  red_circle: "🔴",
  hourglass: "⌛",
  hourglass_flowing_sand: "⏳",
  rotating_light: "🚨",
  snail: "🐌",
  zzz: "💤",
  calendar: "📅",
  truck: "🚚",
  package: "📦",
  rocket: "🚀",
  money_with_wings: "💸",
  chart_with_upwards_trend: "📈",
  chart_with_downwards_trend: "📉",
  mag: "🔍",
  information_source: "ℹ️",
  bulb: "💡",
};

/** Replaces the known :emoji_codes: in text; "17:05:12" and unknown codes are left alone. */
export function mapEmoji(text: string): string {
  return text.replace(/:([a-z_+-][a-z0-9_+-]*):/g, (whole, name: string) => EMOJI[name] ?? whole);
}

// The families are loaded once per process: `houston ask` asks once, tests ask many times.
let commands: Promise<Command[]> | undefined;

/**
 * Answers one question as terminal text. `log` (optional) receives the error when a family
 * fails, which the answer itself only mentions.
 */
export async function askCommand(
  question: string,
  opts: { store: Store; now: Date; timezone: string; log?: Logger },
): Promise<string> {
  commands ??= loadCommands();
  const ctx: AskContext = { store: opts.store, now: opts.now, timezone: opts.timezone };
  if (opts.log) ctx.log = opts.log;
  const result = await ask(await commands, ctx, question);
  return mapEmoji(toTerminal(result.answer));
}
