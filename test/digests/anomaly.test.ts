import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { detect, settingsFor, sigmaText, trainingDays, trainingValues } from "../../src/digests/anomaly.ts";

const S = { minPoints: 7, sensitivity: 3 };
const close = (a: number | null, b: number, eps = 1e-4) =>
  assert.ok(a !== null && Math.abs(a - b) < eps, `${a} ≉ ${b}`);

describe("anomaly maths", () => {
  it("scores a shift in a tight series with both the classic and the robust z", () => {
    // history 10 12 11 13 9 10 12: mean 77/7 = 11, squared deviations 1+1+0+4+4+1+1 = 12,
    // sample variance 12/6 = 2, sd √2 = 1.414214 → z = (20 − 11)/1.414214 = 6.3640.
    // sorted 9 10 10 11 12 12 13: median 11; |x − 11| = 2 1 0 2 … → sorted 0 1 1 1 1 2 2,
    // MAD 1, robust sd 1.4826 → robust z = 9/1.4826 = 6.0704.
    const v = detect(20, [10, 12, 11, 13, 9, 10, 12], S);
    assert.equal(v.status, "anomaly");
    assert.equal(v.by, "both");
    assert.equal(v.n, 7);
    close(v.mean, 11);
    close(v.sd, 1.414214);
    close(v.median, 11);
    close(v.mad, 1);
    close(v.z, 6.364);
    close(v.robustZ, 6.0704);
    close(v.severity, 6.364);
    assert.equal(v.direction, "high");
    assert.equal(sigmaText(v), "6.4σ");
  });

  it("lets no past outlier hide the next: the classic z is masked, the robust z catches it", () => {
    // 13 ordinary days around 10 and one past outlier of 100; today 30.
    // mean = 231/14 = 16.5; squared deviations sum to 549.25 + 83.5² (6972.25) = 7521.5,
    // variance 7521.5/13 = 578.577, sd 24.0536 → z = 13.5/24.0536 = 0.5612: masked.
    // sorted: 8 9 9 10 10 10 10 10 10 11 11 11 12 100 → median 10; |x − 10| sorted
    // 0×6 1×5 2×2 90 → MAD 1 → robust z = 20/1.4826 = 13.4898.
    const history = [10, 11, 9, 10, 12, 10, 8, 10, 11, 9, 10, 10, 11, 100];
    const v = detect(30, history, S);
    close(v.mean, 16.5);
    close(v.sd, 24.0536);
    close(v.z, 0.5612);
    assert.ok(Math.abs(v.z!) < 3, "the classic z alone would miss it");
    close(v.robustZ, 13.4898);
    assert.equal(v.status, "anomaly");
    assert.equal(v.by, "robust");
    assert.equal(sigmaText(v), "13σ (robust)");
  });

  it("falls back to the mean absolute deviation when more than half the history is equal", () => {
    // 5 5 5 5 5 6 9: median 5, |x − 5| = 0 0 0 0 0 1 4 → MAD 0, so the robust scale is
    // 1.2533 × mean(|x − 5|) = 1.2533 × 5/7 = 0.895214 → robust z = 7/0.895214 = 7.8194.
    // mean 40/7 = 5.714286, squared deviations 5 × 0.510204 + 0.081633 + 10.795918 = 13.428571,
    // variance 2.238095, sd 1.496026 → z = 6.285714/1.496026 = 4.2016.
    const v = detect(12, [5, 5, 5, 5, 5, 6, 9], S);
    close(v.mad, 0);
    close(v.robustSd, 0.895214);
    close(v.robustZ, 7.8194);
    close(v.z, 4.2016);
    assert.equal(v.by, "both");
  });

  it("never flags a noise-free series for an equal value, nor for a hair's change", () => {
    const flat = [300, 300, 300, 300, 300, 300, 300];
    const same = detect(300, flat, S);
    assert.equal(same.status, "ok");
    assert.equal(same.z, 0);
    assert.equal(same.robustZ, 0);
    // sd and MAD are 0: both scales floor at 1% of 300 = 3, so 303 is 1σ and 330 is 10σ.
    const hair = detect(303, flat, S);
    close(hair.sd, 3);
    close(hair.robustSd, 3);
    close(hair.z, 1);
    assert.equal(hair.status, "ok");
    const jump = detect(330, flat, S);
    close(jump.z, 10);
    assert.equal(jump.status, "anomaly");
    // All zeros, then zero: no division by zero, no anomaly.
    const zeros = detect(0, [0, 0, 0, 0, 0, 0, 0], S);
    assert.equal(zeros.status, "ok");
    assert.ok(Number.isFinite(zeros.z!) && Number.isFinite(zeros.robustZ!));
  });

  it("gives no verdict below the minimum number of training points", () => {
    const v = detect(1000, [10, 11, 9, 10, 12, 10], S);
    assert.equal(v.status, "insufficient");
    assert.equal(v.n, 6);
    assert.equal(v.z, null);
    assert.equal(detect(1000, [10, 11, 9, 10, 12, 10], { ...S, minPoints: 6 }).status, "anomaly");
  });

  it("honours the sensitivity, one-sided series and a minimum change", () => {
    const h = [10, 12, 11, 13, 9, 10, 12];
    // z 6.36 and robust z 6.07: an anomaly at sensitivity 6, not at 7.
    assert.equal(detect(20, h, { ...S, sensitivity: 6 }).status, "anomaly");
    assert.equal(detect(20, h, { ...S, sensitivity: 7 }).status, "ok");
    // 2 is 6.36σ below the mean: an anomaly both ways, not for a "high only" series.
    assert.equal(detect(2, h, S).status, "anomaly");
    assert.equal(detect(2, h, S).direction, "low");
    assert.equal(detect(2, h, S, { sides: "high" }).status, "ok");
    // A change of 9 is below a minimum change of 10.
    assert.equal(detect(20, h, S, { minDelta: 10 }).status, "ok");
  });

  it("trains on the days before the detected day, never on the day itself", () => {
    assert.deepEqual(trainingDays("2026-11-21", { trainingDays: 3, seasonality: false }), [
      "2026-11-20",
      "2026-11-19",
      "2026-11-18",
    ]);
    const series = new Map([
      ["2026-11-21", 999],
      ["2026-11-20", 1],
      ["2026-11-18", 3],
      ["2026-11-17", 4],
    ]);
    // 11-19 has no value (skipped); 11-21 is the detected day; 11-17 is outside 3 days.
    assert.deepEqual(trainingValues(series, "2026-11-21", { trainingDays: 3, seasonality: false }), [1, 3]);
  });

  it("trains only on the same weekday with seasonality", () => {
    // 2026-11-21 is a Saturday: the Saturdays of the 28 days before.
    assert.deepEqual(trainingDays("2026-11-21", { trainingDays: 28, seasonality: true }), [
      "2026-11-14",
      "2026-11-07",
      "2026-10-31",
      "2026-10-24",
    ]);
  });

  it("merges settings: defaults, then the subscription's, then the job's; bad values name the field", () => {
    assert.deepEqual(settingsFor(undefined, undefined), {
      trainingDays: 14,
      minPoints: 7,
      sensitivity: 3,
      seasonality: false,
    });
    assert.deepEqual(settingsFor({ sensitivity: 4, trainingDays: 28 }, { sensitivity: 2.5 }), {
      trainingDays: 28,
      minPoints: 7,
      sensitivity: 2.5,
      seasonality: false,
    });
    assert.throws(() => settingsFor({ minPoints: 1 }, undefined), /minPoints/);
    assert.throws(() => settingsFor(undefined, { sensitivity: 0 }), /sensitivity/);
    assert.throws(() => settingsFor({ trainingDays: 1.5 }, undefined), /trainingDays/);
  });
});
