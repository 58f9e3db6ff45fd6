// What the incident button listeners need besides Bolt's arguments.
import type { Logger } from "pino";
import type { Store } from "../../../db/client.ts";

export interface IncidentActionDeps {
  store: Store;
  now: () => Date;
  log: Logger;
  /** HOUSTON_TIMEZONE: times in the notes only the clicker sees. */
  timezone: string;
  /** Tells the outbox worker a message was just enqueued (the Slack update, the PagerDuty event). */
  wake: () => void;
}
