// Telling "the database is away" apart from every other failure: the first is answered 503
// with Retry-After (the client's retry will succeed once it is back), the second 500.

/** Codes of postgres.js and Node's network layer for a connection that failed or was lost. */
const CONNECTION_CODES = new Set([
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * SQLSTATEs of a server that is there but not serving: admin_shutdown and crash_shutdown
 * (a restart ended the session), cannot_connect_now (starting up or in recovery),
 * too_many_connections. Class 08 (connection exception) is matched as a class.
 */
const SERVER_STATES = new Set(["57P01", "57P02", "57P03", "53300"]);

/** True when err, or an error it was caused by, says the database cannot be reached now. */
export function isStoreUnavailable(err: unknown): boolean {
  const seen = new Set<unknown>();
  for (let e = err; e && typeof e === "object" && !seen.has(e); e = (e as { cause?: unknown }).cause) {
    seen.add(e);
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string") continue;
    if (CONNECTION_CODES.has(code) || SERVER_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  return false;
}

/** What a 503 for an unreachable database tells the client to wait, in seconds. */
export const STORE_RETRY_AFTER_S = 5;
