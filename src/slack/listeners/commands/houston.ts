// /houston <question>: ack at once with nothing (Slack wants an answer within 3 s; the
// question may take longer), then answer through response_url — only the asker sees it
// unless they add --share. response_url works in any channel, even one Houston is not in.
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from "@slack/bolt";
import type { ListenerDeps } from "../types.ts";

export function houstonCommand(deps: ListenerDeps) {
  return async ({ command, ack, respond, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs) => {
    await ack();
    await deps.answerer.handle(
      {
        text: command.text ?? "",
        source: "command",
        userId: command.user_id,
        teamId: command.team_id,
        channelId: command.channel_id,
        correlationId: command.trigger_id,
        client,
      },
      async ({ answer, question }) => {
        await respond({
          response_type: question.share ? "in_channel" : "ephemeral",
          replace_original: false,
          text: answer.text,
          blocks: answer.blocks,
        });
      },
    );
  };
}
