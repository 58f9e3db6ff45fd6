// Unicode sparklines for 14-day trends in text: one block character per day, scaled
// between the series' own minimum and maximum; a missing day is a space.
const BARS = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"] as const;

/** "▁▂▅█▃ ▂": null/undefined/NaN values are gaps; a flat series is a row of ▄. */
export function sparkline(values: readonly (number | null | undefined)[]): string {
  const xs = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (xs.length === 0) return "";
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  return values
    .map((v) => {
      if (typeof v !== "number" || !Number.isFinite(v)) return " ";
      if (hi === lo) return BARS[3];
      return BARS[Math.min(BARS.length - 1, Math.floor(((v - lo) / (hi - lo)) * BARS.length))]!;
    })
    .join("");
}
