// Someone opened Houston's Home tab: publish a fresh fleet overview for them (src/slack/home.ts).
// Slack sends this event on every open, so the view is always as of now; there is nothing
// to answer in the Messages tab, which is the DM path.
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from "@slack/bolt";
import { describeSlackError } from "../../errors.ts";
import { type HomeDeps, homeSummary, loadHome, renderHome } from "../../home.ts";

export function appHomeOpened(deps: HomeDeps) {
  return async ({ event, body, client }: SlackEventMiddlewareArgs<"app_home_opened"> & AllMiddlewareArgs) => {
    // Without the opener there is no one to publish the tab for (and their subscriptions
    // cannot be looked up): nothing to do.
    if (event.tab !== "home" || typeof event.user !== "string" || event.user === "") return;
    const started = performance.now();
    const hlog = deps.log.child({ correlationId: body.event_id, userId: event.user, teamId: body.team_id });
    const tz = await deps.timezones.get(client, event.user);
    const data = await loadHome(deps.store, deps.now(), event.user, tz.timezone);
    const view = renderHome(data);
    const line = { timezone: tz.timezone, blocks: view.blocks.length, ...homeSummary(data) };
    try {
      await client.views.publish({ user_id: event.user, view });
      hlog.info({ ...line, ms: Math.round(performance.now() - started) }, "home tab published");
    } catch (err) {
      const { code, hint } = describeSlackError(err);
      hlog.error(
        { ...line, err, code, ...(hint ? { hint } : {}) },
        `home tab could not be published (${code})`,
      );
    }
  };
}
