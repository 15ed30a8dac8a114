/**
 * Counting what a canvas or a screenshot shows, in the page (headless Chromium through
 * playwright-core): either is drawn into a 2D canvas first, so WebGL canvases count too.
 */
import type { Page } from 'playwright-core';

/** `unlike`: pixels whose colour differs from `rgb`; `coloured`: pixels that are not grey. */
export type PixelTest = { unlike: [number, number, number] } | { coloured: true };

/** Where the pixels come from: the first canvas matching a selector, or a PNG screenshot. */
export type PixelSource = { selector: string } | { png: Buffer };

/** Pixels of the first canvas matching `selector` that pass `test` by more than `threshold` (sum of channel differences, or max − min channel). */
export function canvasPixels(page: Page, selector: string, test: PixelTest, threshold = 30): Promise<number> {
  return pixelsOf(page, { selector }, test, threshold);
}

/** Pixels of a canvas or a screenshot that pass `test` by more than `threshold`. */
export function pixelsOf(page: Page, source: PixelSource, test: PixelTest, threshold = 30): Promise<number> {
  return page.evaluate(
    async ({ selector, png, test, threshold }) => {
      let image: CanvasImageSource;
      let width: number;
      let height: number;
      if (png !== undefined) {
        const img = new Image();
        img.src = `data:image/png;base64,${png}`;
        await img.decode();
        [image, width, height] = [img, img.width, img.height];
      } else {
        const canvas = document.querySelector(selector!) as HTMLCanvasElement | null;
        if (!canvas) return 0;
        [image, width, height] = [canvas, canvas.width, canvas.height];
      }
      const copy = document.createElement('canvas');
      copy.width = width;
      copy.height = height;
      const g = copy.getContext('2d')!;
      g.drawImage(image, 0, 0);
      const d = g.getImageData(0, 0, width, height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        const [r, gr, b] = [d[i], d[i + 1], d[i + 2]];
        const distance = 'unlike' in test ? Math.abs(r - test.unlike[0]) + Math.abs(gr - test.unlike[1]) + Math.abs(b - test.unlike[2]) : Math.max(r, gr, b) - Math.min(r, gr, b);
        if (distance > threshold) n++;
      }
      return n;
    },
    'png' in source ? { selector: undefined, png: source.png.toString('base64'), test, threshold } : { selector: source.selector, png: undefined, test, threshold },
  );
}
