// What a failed Slack call means and how to fix it, for the log line that reports it.
// Slack's error codes are terse; the hint names the setting or step that fixes them.
import { ErrorCode, webApi } from "@slack/bolt";

export interface SlackFailure {
  /** Slack's error code (missing_scope, invalid_auth…) or the kind of failure. */
  code: string;
  /** How to fix it, when the code says. */
  hint?: string;
}

const TOKEN_HINT =
  "SLACK_BOT_TOKEN was refused: reinstall the app (OAuth & Permissions) and copy the Bot User OAuth Token (xoxb-…) again";

const HINTS: Record<string, string> = {
  invalid_auth: TOKEN_HINT,
  not_authed: TOKEN_HINT,
  token_revoked: TOKEN_HINT,
  token_expired: TOKEN_HINT,
  account_inactive: TOKEN_HINT,
  not_allowed_token_type:
    "a token of the wrong kind: SLACK_BOT_TOKEN must be xoxb-…, SLACK_APP_TOKEN must be xapp-… with connections:write",
  not_in_channel:
    "invite @Houston to the channel (/invite @Houston): it posts, reads back its posts and uploads charts only where it is a member",
  channel_not_found: "the channel is private or gone: invite @Houston to it",
  user_not_found: "the user is not in this workspace",
};

/**
 * Slack error codes (platform errors, `ok: false`) that another try can fix: Slack's own
 * trouble and rate limits. Every other code (a missing scope, a gone channel, bad blocks)
 * fails the same way again. Shared by every delivery that retries on its own.
 */
export const TRANSIENT_SLACK_ERRORS: ReadonlySet<string> = new Set([
  "ratelimited",
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
  "team_added_to_org",
]);

export function describeSlackError(err: unknown): SlackFailure {
  const e = err as {
    code?: string;
    data?: { error?: string; needed?: string };
    statusCode?: number;
    original?: Error;
  };
  switch (e.code) {
    case webApi.ErrorCode.PlatformError: {
      const code = e.data?.error ?? "unknown_error";
      if (code === "missing_scope")
        return {
          code,
          hint: `add the ${e.data?.needed ?? "missing"} bot scope (slack-app-manifest.yml) and reinstall the app`,
        };
      const hint = HINTS[code];
      return hint ? { code, hint } : { code };
    }
    case webApi.ErrorCode.RequestError:
      return {
        code: "unreachable",
        hint: `Slack could not be reached (${e.original?.message ?? "network error"}); check egress to slack.com or SLACK_API_URL`,
      };
    case webApi.ErrorCode.HTTPError:
      return { code: `http_${e.statusCode ?? "error"}` };
    case webApi.ErrorCode.RateLimitedError:
      return { code: "ratelimited" };
    case ErrorCode.RespondError:
      return {
        code: "response_url_refused",
        hint: "Slack refused the response_url (it expires after 30 minutes or 5 replies)",
      };
    default:
      return { code: e.code ?? (err instanceof Error ? err.name : "unknown_error") };
  }
}
