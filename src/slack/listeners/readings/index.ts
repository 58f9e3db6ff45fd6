import type { App, BlockButtonAction } from "@slack/bolt";
import { READING_ACTION } from "../../../questions/router.ts";
import type { ListenerDeps } from "../types.ts";
import { readingButton } from "./reading.ts";

/** The reading buttons of a clarification: houston_reading_0, _1, _2. */
export function registerReadings(app: App, deps: ListenerDeps): void {
  app.action<BlockButtonAction>({ action_id: new RegExp(`^${READING_ACTION}_\\d+$`) }, readingButton(deps));
}
