// What every listener receives besides Bolt's arguments.
import type { Answerer } from "../answer.ts";
import type { HomeDeps } from "../home.ts";

export interface ListenerDeps {
  answerer: Answerer;
  /** The App Home tab (app_home_opened); absent → the tab is not published. */
  home?: HomeDeps;
}
