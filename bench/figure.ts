/**
 * Benchmark figures without a plotting library: horizontal bar charts written as SVG by hand, and
 * a PNG of the same SVG rendered by headless Chromium when it is installed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Bar {
  label: string;
  value: number;
  /** The spread over runs, drawn as a whisker. */
  min?: number;
  max?: number;
  /** Highlight the subject of the benchmark. */
  emphasis?: boolean;
}

export interface Panel {
  title: string;
  /** Formats a value for its label, unit included. */
  format: (v: number) => string;
  bars: Bar[];
}

export interface Figure {
  title: string;
  subtitle: string;
  panels: Panel[];
}

const WIDTH = 800;
const LABEL_W = 150;
const VALUE_W = 120;
const BAR_H = 26;
const GAP = 10;
const PANEL_HEAD = 34;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** The figure as a standalone SVG document. */
export function barChartSvg(figure: Figure): string {
  const parts: string[] = [];
  let y = 64;
  const plotW = WIDTH - LABEL_W - VALUE_W - 20;
  for (const panel of figure.panels) {
    parts.push(`<text x="20" y="${y + 20}" class="panel">${esc(panel.title)}</text>`);
    y += PANEL_HEAD;
    const top = Math.max(...panel.bars.map((b) => Math.max(b.value, b.max ?? 0))) || 1;
    const scale = (v: number): number => (v / top) * plotW;
    for (const bar of panel.bars) {
      const w = Math.max(1, scale(bar.value));
      parts.push(`<text x="${LABEL_W}" y="${y + BAR_H / 2 + 5}" class="label" text-anchor="end">${esc(bar.label)}</text>`);
      parts.push(`<rect x="${LABEL_W + 10}" y="${y}" width="${w.toFixed(1)}" height="${BAR_H}" class="${bar.emphasis ? 'bar em' : 'bar'}"/>`);
      if (bar.min !== undefined && bar.max !== undefined) {
        const [x1, x2] = [LABEL_W + 10 + scale(bar.min), LABEL_W + 10 + scale(bar.max)];
        const cy = y + BAR_H / 2;
        parts.push(
          `<path d="M${x1.toFixed(1)} ${cy}H${x2.toFixed(1)}M${x1.toFixed(1)} ${cy - 6}V${cy + 6}M${x2.toFixed(1)} ${cy - 6}V${cy + 6}" class="whisker"/>`,
        );
      }
      const end = LABEL_W + 10 + Math.max(w, bar.max !== undefined ? scale(bar.max) : 0);
      parts.push(`<text x="${(end + 8).toFixed(1)}" y="${y + BAR_H / 2 + 5}" class="value">${esc(panel.format(bar.value))}</text>`);
      y += BAR_H + GAP;
    }
    y += 14;
  }
  const height = y + 10;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans, Arial, sans-serif">
<style>
.title{font-size:19px;font-weight:bold;fill:#222}.subtitle{font-size:12.5px;fill:#555}.panel{font-size:15px;font-weight:bold;fill:#333}
.label{font-size:13.5px;fill:#222}.value{font-size:13px;fill:#222}.bar{fill:#9aa7b4}.em{fill:#2f6fa8}.whisker{stroke:#222;stroke-width:1.3;fill:none}
</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="20" y="30" class="title">${esc(figure.title)}</text>
<text x="20" y="50" class="subtitle">${esc(figure.subtitle)}</text>
${parts.join('\n')}
</svg>
`;
}

export const CHROMIUM = '/usr/bin/chromium';

/** Renders an SVG to a PNG with headless Chromium; false when Chromium is not installed. */
export async function svgToPng(svg: string, pngPath: string): Promise<boolean> {
  if (!existsSync(CHROMIUM)) return false;
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), 'limen-bench-chromium-'));
  const size = /width="(\d+)" height="(\d+)"/.exec(svg);
  const [width, height] = size ? [Number(size[1]), Number(size[2])] : [WIDTH, 600];
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width, height },
    deviceScaleFactor: 2,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
    writeFileSync(pngPath, await page.screenshot({ clip: { x: 0, y: 0, width, height } }));
    return true;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
