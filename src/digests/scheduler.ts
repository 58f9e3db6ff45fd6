// The digest scheduler: what the minute tick runs in every replica. The database decides:
// each (subscription, slot) row is inserted once (INSERT … ON CONFLICT DO NOTHING), so one
// replica claims each slot however many tick; delivery then takes claimed rows with a
// conditional UPDATE (deliver.ts).
//
// Which slots: for each active subscription, those after the later of its creation and its
// latest recorded slot, up to now (bounded to the last 8 days). In steady state that is the
// slot that fell due since the previous tick. After downtime it is every slot missed: one
// within HOUSTON_DIGEST_CATCHUP of now is sent (late, once); an older one is recorded as
// skipped with a log line, so a Houston that was down all weekend does not post Saturday's
// digest on Monday afternoon. Skipped rows are recorded, so the next start is quiet.
import { sql } from "drizzle-orm";
import { json, ts } from "../db/sql.ts";
import { type DeliveryDeps, type DeliveryResult, deliverDue } from "./deliver.ts";
import { slotsBetween } from "./slots.ts";
import { activeSubscriptions } from "./subscriptions.ts";

export const DEFAULT_CATCHUP_MS = 6 * 3_600_000;
/** Slots further back than this are not looked for at all (a weekly slot plus a day). */
const LOOKBACK_MS = 8 * 86_400_000;

export interface DigestSchedulerOptions extends DeliveryDeps {
  /** HOUSTON_DIGEST_CATCHUP: a missed slot at most this old is still sent. */
  catchupMs?: number;
}

export interface ClaimedSlot {
  subscriptionId: number;
  slotAt: Date;
  reportedDate: string;
  state: "claimed" | "skipped";
}

export interface TickSummary {
  at: string;
  /** Slots this replica claimed for sending. */
  claimed: number;
  /** Slots this replica recorded as skipped (missed by more than the catch-up window). */
  skipped: number;
  deliveries: DeliveryResult[];
}

export class DigestScheduler {
  private readonly catchupMs: number;

  constructor(private readonly deps: DigestSchedulerOptions) {
    this.catchupMs = deps.catchupMs ?? DEFAULT_CATCHUP_MS;
  }

  /** Claims due slots, then delivers what is due (new claims and retries). */
  async tick(at: Date = this.deps.now()): Promise<TickSummary> {
    // Without Slack nothing could be sent: claiming would only queue stale digests for later.
    if (!this.deps.client) return { at: at.toISOString(), claimed: 0, skipped: 0, deliveries: [] };
    const claimed = await this.claimDue(at);
    const deliveries = await deliverDue(this.deps);
    return {
      at: at.toISOString(),
      claimed: claimed.filter((c) => c.state === "claimed").length,
      skipped: claimed.filter((c) => c.state === "skipped").length,
      deliveries,
    };
  }

  /** Records every slot due by `at` that no replica has recorded yet; returns those this replica won. */
  async claimDue(at: Date): Promise<ClaimedSlot[]> {
    const { store, log } = this.deps;
    const subs = await activeSubscriptions(store);
    if (subs.length === 0) return [];
    const latest = await store.query<{ subscription_id: number; slot_at: string | Date }>(
      sql`SELECT s.id AS subscription_id, d.slot_at FROM subscriptions s
          CROSS JOIN LATERAL (
            SELECT slot_at FROM digest_deliveries WHERE subscription_id = s.id ORDER BY slot_at DESC LIMIT 1) d
          WHERE s.ended_at IS NULL AND s.channel_gone_at IS NULL`,
    );
    const lastSlot = new Map(latest.map((r) => [Number(r.subscription_id), new Date(r.slot_at).getTime()]));
    const rows: {
      subscription_id: number;
      slot_at: string;
      report: string;
      channel: string;
      reported_date: string;
      state: "claimed" | "skipped";
      error: string | null;
    }[] = [];
    for (const sub of subs) {
      // Created at 08:59:30 with a 09:00 time: today's slot is sent; at 09:00:30 it is not.
      const from = Math.max(sub.createdAt.getTime(), lastSlot.get(sub.id) ?? 0, at.getTime() - LOOKBACK_MS);
      for (const slot of slotsBetween(sub, new Date(from), at)) {
        const lateMs = at.getTime() - slot.at.getTime();
        const skip = lateMs > this.catchupMs;
        rows.push({
          subscription_id: sub.id,
          slot_at: slot.at.toISOString(),
          report: sub.report,
          channel: sub.channel,
          reported_date: slot.reportedDate,
          state: skip ? "skipped" : "claimed",
          error: skip
            ? `missed by ${settingDuration(lateMs)} (Houston was not running); HOUSTON_DIGEST_CATCHUP is ${settingDuration(this.catchupMs)}`
            : null,
        });
      }
    }
    if (rows.length === 0) return [];
    const won = await store.query<{
      subscription_id: number;
      slot_at: string | Date;
      reported_date: string;
      state: "claimed" | "skipped";
      error: string | null;
      channel: string;
      report: string;
    }>(
      sql`INSERT INTO digest_deliveries (subscription_id, slot_at, report, channel, reported_date, state,
            next_attempt_at, claimed_by, claimed_at, error, finished_at)
          SELECT subscription_id, slot_at, report, channel, reported_date::date, state,
            CASE WHEN state = 'claimed' THEN ${ts(at)} END, ${this.deps.replicaId}, ${ts(at)}, error,
            CASE WHEN state = 'skipped' THEN ${ts(at)} END
          FROM jsonb_to_recordset(${json(rows)}) AS x(subscription_id int, slot_at timestamptz, report text,
            channel text, reported_date text, state text, error text)
          ORDER BY subscription_id, slot_at
          ON CONFLICT (subscription_id, slot_at) DO NOTHING
          RETURNING subscription_id, slot_at, reported_date::text AS reported_date, state, error, channel, report`,
    );
    const out: ClaimedSlot[] = won.map((r) => ({
      subscriptionId: Number(r.subscription_id),
      slotAt: new Date(r.slot_at),
      reportedDate: String(r.reported_date).slice(0, 10),
      state: r.state,
    }));
    for (const r of won) {
      if (r.state !== "skipped") continue;
      log.warn(
        {
          component: "digests",
          subscriptionId: Number(r.subscription_id),
          slot: new Date(r.slot_at).toISOString(),
          report: r.report,
          channel: r.channel,
          reportedDate: String(r.reported_date).slice(0, 10),
          reason: r.error,
        },
        `digest skipped: the ${r.report} digest for ${r.channel} due ${new Date(r.slot_at).toISOString()} was ${r.error}`,
      );
    }
    const sent = out.filter((c) => c.state === "claimed");
    const late = sent.filter((c) => at.getTime() - c.slotAt.getTime() > 120_000);
    if (late.length)
      log.info(
        {
          component: "digests",
          slots: late.map((c) => ({ id: c.subscriptionId, slot: c.slotAt.toISOString() })),
        },
        `digests: catching up ${late.length} slot(s) missed while Houston was not running`,
      );
    return out;
  }
}

/**
 * 21600000 → "6h", 5400000 → "1h30m": written the way HOUSTON_DIGEST_CATCHUP is set, so the
 * log line can be compared with (and pasted into) the setting; answers use questions'
 * formatDuration ("1h 30m") instead.
 */
function settingDuration(ms: number): string {
  const totalMin = Math.round(ms / 60_000);
  if (totalMin < 1) return `${Math.round(ms / 1000)}s`;
  const d = Math.floor(totalMin / 1440);
  const h = Math.floor((totalMin % 1440) / 60);
  const m = totalMin % 60;
  return `${d ? `${d}d` : ""}${h ? `${h}h` : ""}${m ? `${m}m` : ""}`;
}
