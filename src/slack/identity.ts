// Who Houston is in Slack (bot user id, bot id), from auth.test. Bolt would call auth.test
// itself as the app is built and keep a rejected promise forever if Slack was unreachable
// then (every later event fails, and the rejection can crash the process). Instead Houston
// authorizes with its own function: the token is always known, the ids are looked up in the
// background and retried after a failure, and no event waits long for them. Without the
// ids answers still work: mentions are stripped by pattern and bot messages are ignored.
import type { AuthorizeResult, AuthorizeSourceData, webApi } from "@slack/bolt";
import type { Logger } from "pino";
import { describeSlackError } from "./errors.ts";

export interface Identity {
  botId?: string;
  botUserId?: string;
  teamId?: string;
}

export class BotIdentity {
  private known?: Identity;
  private pending?: Promise<void>;
  private lastFailure = 0;

  constructor(
    /** A getter: Bolt's client exists only once the App is built, and the App needs `authorize` first. */
    private readonly client: () => webApi.WebClient,
    private readonly token: string,
    private readonly log: Logger,
    private readonly retryAfterMs = 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Looks the identity up unless known or being looked up; never rejects. */
  refresh(): Promise<void> {
    if (this.known) return Promise.resolve();
    if (this.pending) return this.pending;
    this.pending = this.client()
      .auth.test({ token: this.token })
      .then((res) => {
        this.known = {
          ...(res.bot_id ? { botId: res.bot_id } : {}),
          ...(res.user_id ? { botUserId: res.user_id } : {}),
          ...(res.team_id ? { teamId: res.team_id } : {}),
        };
        this.log.info(
          { team: res.team, teamId: res.team_id, botUserId: res.user_id, botId: res.bot_id },
          `Slack: signed in as @${res.user ?? "?"} in ${res.team ?? "?"}`,
        );
      })
      .catch((err: unknown) => {
        this.lastFailure = this.clock();
        const { code, hint } = describeSlackError(err);
        this.log.error(
          { code, ...(hint ? { hint } : {}) },
          `Slack auth.test failed (${code}): Houston keeps answering and retries within a minute`,
        );
      })
      .finally(() => {
        this.pending = undefined;
      });
    return this.pending;
  }

  /** The identity if known, waiting at most `waitMs` for a lookup (started if due). */
  async current(waitMs = 500): Promise<Identity> {
    if (this.known) return this.known;
    if (!this.pending && this.clock() - this.lastFailure >= this.retryAfterMs) void this.refresh();
    if (this.pending) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        this.pending,
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, waitMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    }
    return this.known ?? {};
  }

  /**
   * Bolt's `authorize`: single workspace, one bot token. A request from another workspace
   * (the app installed in a second one, a user of a Slack Connect channel clicking an incident
   * button) is refused: Bolt acknowledges it, calls no listener and logs why. While the
   * installed team is not known yet (auth.test failing) requests pass: their signature
   * already proves Slack sent them for this app.
   */
  authorize = async (source?: AuthorizeSourceData<boolean>): Promise<AuthorizeResult> => {
    const id = await this.current();
    if (id.teamId && source?.teamId && source.teamId !== id.teamId) {
      throw new Error(
        `a request from Slack workspace ${source.teamId}, but Houston is installed in ${id.teamId}: ignored`,
      );
    }
    return {
      botToken: this.token,
      ...(id.botId ? { botId: id.botId } : {}),
      ...(id.botUserId ? { botUserId: id.botUserId } : {}),
    };
  };
}
