// One chart per digest, rendered without a browser: Vega-Lite spec → Vega view (renderer
// "none") → SVG → PNG with resvg. The font is Inter from an npm package and system fonts are
// never loaded, so a chart renders the same on every machine (and in the tests).
import { createRequire } from "node:module";
import type { TopLevelSpec } from "vega-lite";
import type { DigestChart } from "./types.ts";

const require = createRequire(import.meta.url);
const FONT_FILES = [
  "@expo-google-fonts/inter/400Regular/Inter_400Regular.ttf",
  "@expo-google-fonts/inter/600SemiBold/Inter_600SemiBold.ttf",
  "@expo-google-fonts/inter/700Bold/Inter_700Bold.ttf",
].map((f) => require.resolve(f));
const FONT = "Inter";

export const CHART_WIDTH = 800;
export const CHART_HEIGHT = 400;

export interface ChartSpec {
  title: string;
  alt: string;
  filename: string;
  /** A Vega-Lite spec without size, title or config: those are set here for every chart. */
  spec: Record<string, unknown>;
}

const CONFIG = {
  font: FONT,
  background: "#ffffff",
  padding: 16,
  title: { font: FONT, fontSize: 18, fontWeight: 600, anchor: "start", color: "#1d1c1d", offset: 12 },
  axis: {
    labelFont: FONT,
    titleFont: FONT,
    labelFontSize: 12,
    titleFontSize: 12,
    titleFontWeight: 600,
    labelColor: "#454245",
    titleColor: "#454245",
    gridColor: "#eeeeee",
    domainColor: "#cccccc",
    tickColor: "#cccccc",
  },
  legend: { labelFont: FONT, titleFont: FONT, labelFontSize: 12, titleFontSize: 12 },
  text: { font: FONT },
  view: { stroke: null },
};

/** The SVG of a chart spec at the fixed digest size (the plot area is sized so the whole image is). */
export async function chartSvg(c: ChartSpec): Promise<string> {
  // Stacked panels (vconcat) size themselves (Vega-Lite fits only single or layered views):
  // their specs give each panel a size that adds up to about the digest's.
  const stacked = "vconcat" in c.spec;
  const full = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    ...c.spec,
    title: c.title,
    ...(stacked
      ? { autosize: { type: "pad" } }
      : { width: CHART_WIDTH, height: CHART_HEIGHT, autosize: { type: "fit", contains: "padding" } }),
    config: CONFIG,
  } as unknown as TopLevelSpec;
  // Vega, Vega-Lite and resvg (about 60 MB resident) load with the first chart, not with the
  // service: a replica that only ingests and answers never pays for them.
  const [vega, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  const view = new vega.View(vega.parse(compile(full).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * Renders a chart to PNG CHART_WIDTH wide (2× for crisp Retina display), CHART_HEIGHT high
 * for a single or layered view; stacked panels come out about that high.
 */
export async function chartPng(c: ChartSpec, scale = 2): Promise<DigestChart> {
  const [svg, { Resvg }] = await Promise.all([chartSvg(c), import("@resvg/resvg-js")]);
  const width = CHART_WIDTH * scale;
  const resvg = new Resvg(svg, {
    fitTo: { mode: "width", value: width },
    font: { loadSystemFonts: false, fontFiles: FONT_FILES, defaultFontFamily: FONT, sansSerifFamily: FONT },
    background: "#ffffff",
  });
  const img = resvg.render();
  const png = Buffer.from(img.asPng());
  return { png, filename: c.filename, title: c.title, alt: c.alt, width: img.width, height: img.height };
}
