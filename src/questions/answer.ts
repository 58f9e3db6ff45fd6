// Builds answers that are Block Kit and plain text at once, and keeps them inside Slack's
// limits whatever the data: at most 50 blocks, 3,000 characters a section, 10 fields a
// section; long lists are cut with "and N more". Every answer ends with its source.
import type { KnownBlock } from "@slack/types";
import type { Answer } from "./types.ts";

export const MAX_BLOCKS = 50;
export const MAX_SECTION_CHARS = 3000;
export const MAX_FIELDS = 10;
const MAX_FIELD_CHARS = 2000;
/** List items shown before "and N more". */
export const DEFAULT_LIST_LIMIT = 10;

/** Escapes text for mrkdwn: user and pipeline names must not become markup or mentions. */
export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A name in code style: `nightly_orders`. */
export function code(s: string): string {
  return `\`${esc(s).replace(/`/g, "'")}\``;
}

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1)}…`;
}

/**
 * mrkdwn → the message's fallback `text` (notifications, screen readers): without bold and
 * italics, but still escaped. Slack reads `<!channel>` and `<url|label>` in `text` as it does
 * in blocks, so a job or an error message containing them must not be unescaped here.
 */
export function fallback(mrkdwn: string): string {
  return mrkdwn.replace(/\*([^*\n]+)\*/g, "$1").replace(/(^|\s)_(\S.*?)_(?=$|\s|[.,;:!?)])/gm, "$1$2");
}

/** mrkdwn → plain text for the terminal (entities unescaped). */
export function plain(mrkdwn: string): string {
  return (
    mrkdwn
      .replace(/\*([^*\n]+)\*/g, "$1")
      // Italics may wrap names with underscores (_from runs of finance_close_): match lazily
      // up to an underscore that ends a word.
      .replace(/(^|\s)_(\S.*?)_(?=$|\s|[.,;:!?)])/gm, "$1$2")
      .replace(/&lt;/g, "<")
      .replace(/&gt;/g, ">")
      .replace(/&amp;/g, "&")
  );
}

export class AnswerBuilder {
  private blocks: KnownBlock[] = [];
  private lines: string[] = [];
  private source?: string;

  /** The one-line answer, first and bold. */
  headline(mrkdwn: string): this {
    this.section(`*${mrkdwn}*`);
    return this;
  }

  section(mrkdwn: string): this {
    const text = clip(mrkdwn, MAX_SECTION_CHARS);
    this.blocks.push({ type: "section", text: { type: "mrkdwn", text } });
    this.lines.push(fallback(text));
    return this;
  }

  /** Label/value pairs shown two per row (at most 10 per block; more make more blocks). */
  fields(pairs: [string, string][]): this {
    for (let i = 0; i < pairs.length; i += MAX_FIELDS) {
      const chunk = pairs.slice(i, i + MAX_FIELDS);
      this.blocks.push({
        type: "section",
        fields: chunk.map(([k, v]) => ({ type: "mrkdwn", text: clip(`*${k}*\n${v}`, MAX_FIELD_CHARS) })),
      });
      for (const [k, v] of chunk) this.lines.push(`${fallback(k)}: ${fallback(v)}`);
    }
    return this;
  }

  /** A titled bullet list, cut to `limit` items with "and N more". */
  list(title: string, items: string[], limit = DEFAULT_LIST_LIMIT): this {
    if (items.length === 0) return this;
    const shown = items.slice(0, limit);
    const more = items.length - shown.length;
    let body = shown.map((i) => `• ${i}`).join("\n");
    if (more > 0) body += `\n_and ${more.toLocaleString("en-US")} more_`;
    // A list longer than one section allows is cut at a line boundary.
    const full = `${title ? `*${title}*\n` : ""}${body}`;
    if (full.length > MAX_SECTION_CHARS) {
      const kept: string[] = [];
      let len = title.length + 4;
      for (const line of shown) {
        if (len + line.length + 3 > MAX_SECTION_CHARS - 40) break;
        kept.push(`• ${line}`);
        len += line.length + 3;
      }
      const cut = items.length - kept.length;
      return this.section(
        `${title ? `*${title}*\n` : ""}${kept.join("\n")}\n_and ${cut.toLocaleString("en-US")} more_`,
      );
    }
    return this.section(full);
  }

  /** Up to 5 buttons in one actions block; a terminal shows them as a numbered list. */
  buttons(actionId: string, buttons: { text: string; value: string }[]): this {
    const shown = buttons.slice(0, 5);
    if (!shown.length) return this;
    this.blocks.push({
      type: "actions",
      elements: shown.map((b, i) => ({
        type: "button",
        action_id: `${actionId}_${i}`,
        text: { type: "plain_text", text: clip(b.text, 75), emoji: false },
        value: b.value,
      })),
    });
    shown.forEach((b, i) => this.lines.push(`${i + 1}. ${esc(b.text)}`));
    return this;
  }

  divider(): this {
    this.blocks.push({ type: "divider" });
    return this;
  }

  /** Where the answer comes from: "from 412 runs since Mon 1 Nov". Always shown last. */
  from(source: string): this {
    this.source = source;
    return this;
  }

  build(): Answer {
    const blocks = [...this.blocks];
    const tail: KnownBlock[] = this.source
      ? [
          {
            type: "context",
            elements: [{ type: "mrkdwn", text: clip(`_${this.source}_`, MAX_SECTION_CHARS) }],
          },
        ]
      : [];
    if (blocks.length + tail.length > MAX_BLOCKS) {
      const keep = MAX_BLOCKS - tail.length - 1;
      const dropped = blocks.length - keep;
      blocks.splice(keep);
      blocks.push({
        type: "section",
        text: { type: "mrkdwn", text: `_and ${dropped} more sections not shown_` },
      });
    }
    const text = [...this.lines, ...(this.source ? [`(${fallback(this.source)})`] : [])].join("\n");
    return { text: clip(text, 3900), blocks: [...blocks, ...tail] };
  }
}

/** The answer as a terminal shows it (`houston ask`). */
export function toTerminal(answer: Answer): string {
  const out: string[] = [];
  for (const b of answer.blocks) {
    if (b.type === "section") {
      if (b.text) out.push(plain(b.text.text));
      if (b.fields) {
        for (const f of b.fields) out.push(`  ${plain(f.text).replace("\n", ": ").replace(/\n/g, "\n    ")}`);
      }
    } else if (b.type === "context") {
      out.push(
        b.elements
          .map((e) => ("text" in e ? plain(e.text) : ""))
          .join(" ")
          .trim(),
      );
    } else if (b.type === "divider") out.push("");
    else if (b.type === "actions")
      b.elements.forEach((e, i) => {
        if (e.type === "button") out.push(`${i + 1}. ${e.text.text}`);
      });
  }
  return out.join("\n");
}

/** An answer with one small line first (what Houston understood), kept inside Slack's limits. */
export function withOpening(answer: Answer, mrkdwn: string): Answer {
  const line: KnownBlock = {
    type: "context",
    elements: [{ type: "mrkdwn", text: clip(mrkdwn, MAX_SECTION_CHARS) }],
  };
  const blocks = [line, ...answer.blocks];
  // At the block limit, the last block but one (the answer's source stays last) gives way.
  if (blocks.length > MAX_BLOCKS) blocks.splice(blocks.length - 2, 1);
  return { text: clip(`${fallback(mrkdwn)}\n${answer.text}`, 3900), blocks };
}
