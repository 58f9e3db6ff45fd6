// A direct message to Houston (message.im): the whole message is the question, answered in
// the DM. Edits, deletions, joins and every bot message (Houston's own answers included)
// carry a subtype or a bot_id and are ignored, so Houston never answers itself.
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from "@slack/bolt";
import type { ListenerDeps } from "../types.ts";

export function directMessage(deps: ListenerDeps) {
  return async ({ message, body, client, say }: SlackEventMiddlewareArgs<"message"> & AllMiddlewareArgs) => {
    if (message.channel_type !== "im" || message.subtype !== undefined) return;
    if (message.bot_id || typeof message.user !== "string" || message.user === "") return;
    if (!deps.answerer.firstDelivery(body.event_id)) return;
    const threadTs = message.thread_ts;
    await deps.answerer.handle(
      {
        // A DM with only a file has no text; anything else than a string is not a question.
        text: typeof message.text === "string" ? message.text : "",
        source: "dm",
        userId: message.user,
        teamId: body.team_id,
        channelId: message.channel,
        correlationId: body.event_id,
        client,
        // The DM (or a thread in it) is one conversation: the next message may be a follow-up.
        conversation: `${message.channel}:${threadTs ?? "dm"}`,
      },
      async ({ answer }) => {
        await say({ text: answer.text, blocks: answer.blocks, ...(threadTs ? { thread_ts: threadTs } : {}) });
      },
    );
  };
}
