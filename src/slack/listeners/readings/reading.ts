// A click on one of the readings Houston offered when a question fit more than one thing
// (or none well): the question is answered with the chosen reading, and the answer replaces
// the message that asked, so the thread shows the question's answer and not the menu.
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import type { Reading } from "../../../questions/router.ts";
import { MEASURES, SUBJECT_KINDS } from "../../../understanding/frame.ts";
import type { ListenerDeps } from "../types.ts";

type ReadingArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

/** The reading a button carries, or undefined when its value is not one Houston made. */
export function readingOf(value: string | undefined): Reading | undefined {
  if (!value) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const { q, f } = v as Partial<Reading>;
  if (typeof q !== "string" || typeof f !== "object" || f === null) return undefined;
  if (!MEASURES.includes(f.measure) || typeof f.subject !== "object" || f.subject === null) return undefined;
  if (!SUBJECT_KINDS.includes(f.subject.kind)) return undefined;
  return { q, f };
}

export function readingButton(deps: ListenerDeps) {
  return async ({ ack, action, body, client, respond }: ReadingArgs) => {
    await ack();
    const reading = readingOf(action.value);
    if (!reading || typeof body.user?.id !== "string") {
      await respond({
        response_type: "ephemeral",
        replace_original: false,
        text: ":warning: That button no longer carries a question Houston can read. Ask again.",
      });
      return;
    }
    await deps.answerer.handle(
      {
        text: reading.q,
        frame: reading.f,
        source: "reading",
        userId: body.user.id,
        ...(body.team?.id ? { teamId: body.team.id } : {}),
        ...(body.channel?.id ? { channelId: body.channel.id } : {}),
        correlationId: body.trigger_id ?? action.action_ts,
        client,
      },
      async ({ answer }) => {
        await respond({ replace_original: true, text: answer.text, blocks: answer.blocks });
      },
    );
  };
}
