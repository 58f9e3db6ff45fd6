// Conversations: the last question asked in a Slack DM or thread, with its frame, so the
// next message can be a follow-up that changes one slot of it. Kept a day.
import { sql } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { json, ts } from "../db/sql.ts";
import type { Frame } from "./frame.ts";

export const CONVERSATION_MS = 86_400_000;

export interface Turn {
  /** The question whose wording the families read (the first of a chain of follow-ups). */
  question: string;
  frame: Frame;
  /** The window the last answer used, with its label. */
  window?: { from: string; to: string; label: string; phrase: string };
}

export async function lastTurn(store: Store, key: string, now: Date): Promise<Turn | undefined> {
  const [row] = await store.query<{ question: string; frame: Frame; window: Turn["window"] | null }>(
    sql`SELECT question, frame, "window" FROM conversations
        WHERE key = ${key} AND updated_at > ${ts(new Date(now.getTime() - CONVERSATION_MS))}`,
  );
  if (!row) return undefined;
  const turn: Turn = { question: row.question, frame: row.frame };
  if (row.window) turn.window = row.window;
  return turn;
}

export async function saveTurn(store: Store, key: string, turn: Turn, now: Date): Promise<void> {
  await store.query(
    sql`INSERT INTO conversations (key, question, frame, "window", updated_at)
        VALUES (${key}, ${turn.question}, ${json(turn.frame)}, ${turn.window ? json(turn.window) : null}, ${ts(now)})
        ON CONFLICT (key) DO UPDATE SET question = excluded.question, frame = excluded.frame,
          "window" = excluded."window", updated_at = excluded.updated_at`,
  );
  // Pruned as it goes: a handful of rows at a time, never a scan of the table.
  await store.query(
    sql`DELETE FROM conversations WHERE key IN (
          SELECT key FROM conversations WHERE updated_at < ${ts(new Date(now.getTime() - CONVERSATION_MS))} LIMIT 20)`,
  );
}
