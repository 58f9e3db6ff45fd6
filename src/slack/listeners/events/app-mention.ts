// "@Houston did gl_summary run yesterday?" in a channel: answered in the message's thread,
// so a busy channel stays readable (--share also broadcasts the reply to the channel).
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from "@slack/bolt";
import type { ListenerDeps } from "../types.ts";

/** The mention of Houston (and any leading mention when Houston's id is not known yet). */
export function stripMention(text: string, botUserId?: string): string {
  let out = text;
  if (botUserId) out = out.split(new RegExp(`<@${botUserId}(?:\\|[^>]*)?>`, "g")).join(" ");
  else out = out.replace(/^\s*<@[UW][A-Z0-9]+(?:\|[^>]*)?>/, " ");
  return out.replace(/\s+/g, " ").trim();
}

export function appMention(deps: ListenerDeps) {
  return async ({
    event,
    body,
    client,
    context,
  }: SlackEventMiddlewareArgs<"app_mention"> & AllMiddlewareArgs) => {
    // Other bots mentioning Houston could start a conversation between bots that never ends.
    if (event.bot_id || typeof event.user !== "string" || event.user === "") return;
    if (!deps.answerer.firstDelivery(body.event_id)) return;
    const threadTs = event.thread_ts ?? event.ts;
    // A mention with only a file or an attachment comes without text: asked as an empty
    // question (the help), like a bare "@Houston".
    const text = typeof event.text === "string" ? event.text : "";
    await deps.answerer.handle(
      {
        text: stripMention(text, context.botUserId),
        source: "mention",
        userId: event.user,
        teamId: body.team_id,
        channelId: event.channel,
        correlationId: body.event_id,
        client,
        // The thread Houston answers in is one conversation: "@Houston and in staging?" follows up.
        conversation: `${event.channel}:${threadTs}`,
      },
      async ({ answer, question }) => {
        await client.chat.postMessage({
          channel: event.channel,
          thread_ts: threadTs,
          reply_broadcast: question.share,
          text: answer.text,
          blocks: answer.blocks,
        });
      },
    );
  };
}
