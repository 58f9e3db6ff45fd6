// The last check before an answer leaves for Slack. AnswerBuilder already keeps answers
// inside Block Kit's limits; this guards the boundary anyway, because Slack rejects a whole
// message over a single limit (invalid_blocks) and the asker would get nothing at all.
import type { KnownBlock } from "@slack/types";
import type { Answer } from "../questions/types.ts";

export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  contextElements: 10,
  /** Slack truncates longer message text; keep the fallback readable instead. */
  text: 3900,
} as const;

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

function fitBlock(b: KnownBlock): KnownBlock {
  if (b.type === "section") {
    const out = { ...b };
    if (out.text && out.text.text.length > SLACK_LIMITS.sectionText)
      out.text = { ...out.text, text: clip(out.text.text, SLACK_LIMITS.sectionText) };
    if (out.fields)
      out.fields = out.fields
        .slice(0, SLACK_LIMITS.fields)
        .map((f) => ({ ...f, text: clip(f.text, SLACK_LIMITS.fieldText) }));
    return out;
  }
  if (b.type === "context" && b.elements.length > SLACK_LIMITS.contextElements)
    return { ...b, elements: b.elements.slice(0, SLACK_LIMITS.contextElements) };
  return b;
}

/** The answer within Slack's limits (unchanged when it already is). */
export function fitForSlack(answer: Answer): Answer {
  let blocks = answer.blocks.map(fitBlock);
  if (blocks.length > SLACK_LIMITS.blocks) {
    const dropped = blocks.length - (SLACK_LIMITS.blocks - 1);
    blocks = [
      ...blocks.slice(0, SLACK_LIMITS.blocks - 1),
      { type: "context", elements: [{ type: "mrkdwn", text: `_${dropped} more sections not shown_` }] },
    ];
  }
  return { text: clip(answer.text, SLACK_LIMITS.text) || "Houston", blocks };
}
