// The one home for time: zones and local days (zone.ts) and time expressions in questions
// (window.ts). Everything else imports from here.
export { dayStart, formatDateTime, formatDay, formatTime, localDate, localDay } from "./zone.ts";
export { during, parseTimeWindow, type TimeWindow, untilNow } from "./window.ts";
