// What every listener receives besides Bolt's arguments.
import type { Answerer } from "../answer.ts";

export interface ListenerDeps {
  answerer: Answerer;
}
