// A store seeded with the deterministic demo fleet at a fixed instant, for question and
// digest tests: the planted stories (see src/demo/fleet.ts) are on known days.
import { seedDemo } from "../../src/cli/demo.ts";
import { generateDemoFleet } from "../../src/demo/fleet.ts";
import { toTerminal } from "../../src/questions/answer.ts";
import { ask } from "../../src/questions/router.ts";
import type { Answer, AskContext, Command } from "../../src/questions/types.ts";
import { openTestStore, type StoreImage, type StoreKind, type TestStore } from "./store.ts";

/** The demo history ends at this UTC midnight; "yesterday" is 2026-11-21. */
export const DEMO_UNTIL = new Date("2026-11-22T00:00:00Z");
/** Questions are asked at 09:00 UTC on the day after the history ends. */
export const DEMO_NOW = new Date("2026-11-22T09:00:00Z");

export const demoFleet = () => generateDemoFleet({ until: DEMO_UNTIL, days: 30, todayHours: 9 });

/** The demo fleet as of DEMO_NOW, seeded once and copied for each store (see store.ts). */
export const DEMO_IMAGE: StoreImage = {
  name: "demo",
  build: async (store) => {
    await seedDemo(store, { until: DEMO_UNTIL, now: DEMO_NOW });
  },
};

export function openDemoStore(kind: StoreKind): Promise<TestStore> {
  return openTestStore(kind, { image: DEMO_IMAGE });
}

export function demoContext(store: TestStore, timezone = "UTC", now = DEMO_NOW): AskContext {
  return { store, now, timezone };
}

/** An answer as the terminal shows it, without the line saying what was understood. */
export function answerBody(answer: Answer): string {
  return toTerminal(answer).replace(/^Understood: .*\n/, "");
}

/**
 * Asks through the real router as of DEMO_NOW: the answer as the terminal shows it, the
 * line saying what was understood, and the answer's own first line (its headline).
 */
export async function askDemo(commands: Command[], store: TestStore, text: string, timezone = "UTC") {
  const r = await ask(commands, demoContext(store, timezone), text);
  const out = toTerminal(r.answer);
  const lines = out.split("\n");
  const understood = lines[0]!.startsWith("Understood: ") ? lines.shift()! : undefined;
  return { family: r.family, out, understood, head: lines[0]!, question: r.question };
}
