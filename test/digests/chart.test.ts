import assert from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { describe, it } from "node:test";
import { CHART_HEIGHT, CHART_WIDTH, chartPng, chartSvg, type ChartSpec } from "../../src/digests/chart.ts";

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Chunks of a PNG file: type and data, checked for a sane length. */
function chunks(png: Buffer): { type: string; data: Buffer }[] {
  const out: { type: string; data: Buffer }[] = [];
  let at = 8;
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.subarray(at + 4, at + 8).toString("latin1");
    out.push({ type, data: png.subarray(at + 8, at + 8 + len) });
    at += 12 + len;
  }
  assert.equal(at, png.length, "chunks end exactly at the end of the file");
  return out;
}

const spec: ChartSpec = {
  title: "Top consumers",
  alt: "bars",
  filename: "t.png",
  spec: {
    data: {
      values: [
        { job: "user_embeddings", cost: 34.6 },
        { job: "attribution_model", cost: 7.6 },
        { job: "sessionize", cost: 6.8 },
      ],
    },
    mark: "bar",
    encoding: {
      y: { field: "job", type: "nominal", sort: null },
      x: { field: "cost", type: "quantitative" },
    },
  },
};

describe("digest charts", () => {
  it("renders a valid PNG of exactly the declared size, with real content", async () => {
    const c = await chartPng(spec);
    assert.deepEqual(c.png.subarray(0, 8), SIGNATURE);
    const cs = chunks(c.png);
    assert.equal(cs[0]!.type, "IHDR");
    const ihdr = cs[0]!.data;
    assert.equal(ihdr.readUInt32BE(0), c.width);
    assert.equal(ihdr.readUInt32BE(4), c.height);
    assert.equal(c.width, 2 * CHART_WIDTH);
    assert.equal(c.height, 2 * CHART_HEIGHT);
    assert.equal(cs.at(-1)!.type, "IEND");
    // The pixels are not one flat colour: a chart was drawn.
    const raw = inflateSync(Buffer.concat(cs.filter((x) => x.type === "IDAT").map((x) => x.data)));
    const colourType = ihdr[9]!;
    const channels = colourType === 6 ? 4 : colourType === 2 ? 3 : 1;
    assert.equal(raw.length, c.height * (1 + c.width * channels));
    const seen = new Set<number>();
    for (let i = 0; i < raw.length && seen.size < 50; i += 997) seen.add(raw[i]!);
    assert.ok(seen.size > 5, `only ${seen.size} distinct byte values sampled`);
    assert.ok(c.png.length > 10_000);
    assert.equal(c.filename, "t.png");
    assert.equal(c.alt, "bars");
  });

  it("draws its text in Inter from the package, never a system font", async () => {
    const svg = await chartSvg(spec);
    assert.match(svg, /font-family="Inter"/);
    assert.match(svg, /user_embeddings/);
    assert.match(svg, /Top consumers/);
  });

  it("renders the same bytes twice", async () => {
    const [a, b] = [await chartPng(spec), await chartPng(spec)];
    assert.ok(a.png.equals(b.png));
  });
});
