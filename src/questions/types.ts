// The contract between the router and the question families in commands/. A family is
// one file: what it understands (match), example phrasings (for help and for "did you
// mean" suggestions), and run(ctx, question) → Answer. Handlers stay thin: parse the
// subject, query, render; rendering goes through AnswerBuilder so Block Kit limits hold.
import type { KnownBlock } from "@slack/types";
import type { Logger } from "pino";
import type { Store } from "../db/client.ts";

export type { TimeWindow } from "../time/index.ts";
import type { TimeWindow } from "../time/index.ts";
import type { Turn } from "../understanding/conversations.ts";
import type { Frame, Measure } from "../understanding/frame.ts";

export interface Question {
  /** Exactly what the user typed (minus a trailing --share). */
  raw: string;
  /** Lower-cased, with the time and environment phrases removed; names keep their case in `names`. */
  text: string;
  window?: TimeWindow;
  /** prod | staging | dev | qa, when the question says "in prod" etc. */
  environment?: string;
  /**
   * Yes/no questions: whether Yes means the thing asked about happened ("any missed runs?":
   * present) or did not ("did everything run?": absent). Set from the question's frame.
   */
  polarity?: "present" | "absent";
  /** What the question's frame measures, when the frame parser read it confidently. */
  measure?: Measure;
  /** The whole frame, when the router runs a measure of the catalogue (commands/ measures read only this). */
  frame?: Frame;
  /** The asker wants the answer posted to the channel (`--share`). */
  share: boolean;
  /**
   * Things that look like names: `backticked`, "quoted", or identifier-like tokens
   * (containing _ . - / or digits), in the order they appear, original case.
   */
  names: string[];
}

export interface AskContext {
  store: Store;
  /** When the question was asked; every relative time is computed from it. */
  now: Date;
  /** The asker's IANA time zone (Slack profile, else HOUSTON_TIMEZONE). */
  timezone: string;
  log?: Logger;
  /**
   * Who asked and where, when the question came through Slack: families that change
   * something (silence, subscribe) record the user and act on the channel. Undefined in
   * the terminal (`houston ask`), where such families say they need Slack or a flag.
   */
  asker?: { userId: string; channelId?: string; teamId?: string };
  /** The previous question of this conversation (a Slack DM or thread), for follow-ups. */
  previous?: Turn;
}

export interface Answer {
  /** Plain-text fallback (notifications, terminals, screen readers). */
  text: string;
  blocks: KnownBlock[];
}

export interface Command {
  /** Equals the file name in commands/ (without .ts). */
  id: string;
  /** Short title for help: "Did it run". */
  title: string;
  /** One line: what this family answers. */
  summary: string;
  /** Phrasings a person would type, shown in help and used to suggest close questions. */
  examples: string[];
  /**
   * How well this family understands the question: a score in (0, 1], or 0 when not at
   * all. The router runs the highest-scoring family; on a tie the first loaded (file
   * names in alphabetical order) wins, so families should not tie on purpose.
   */
  match(q: Question): number;
  /**
   * True for families that act (subscribe, silence) or list Houston's own settings rather
   * than answer about pipelines: their answer says what they did, with no "Understood" line.
   */
  acts?: boolean;
  run(ctx: AskContext, q: Question): Promise<Answer>;
}
