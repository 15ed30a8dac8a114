/**
 * Counting what a canvas shows, in the page (headless Chromium through playwright-core): the
 * canvas is copied into a 2D canvas first, so WebGL canvases count too.
 */
import type { Page } from 'playwright-core';

/** `unlike`: pixels whose colour differs from `rgb`; `coloured`: pixels that are not grey. */
export type PixelTest = { unlike: [number, number, number] } | { coloured: true };

/** Pixels of the first canvas matching `selector` that pass `test` by more than `threshold` (sum of channel differences, or max − min channel). */
export function canvasPixels(page: Page, selector: string, test: PixelTest, threshold = 30): Promise<number> {
  return page.evaluate(
    ({ selector, test, threshold }) => {
      const canvas = document.querySelector(selector) as HTMLCanvasElement | null;
      if (!canvas) return 0;
      const copy = document.createElement('canvas');
      copy.width = canvas.width;
      copy.height = canvas.height;
      const g = copy.getContext('2d')!;
      g.drawImage(canvas, 0, 0);
      const d = g.getImageData(0, 0, copy.width, copy.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) {
        const [r, gr, b] = [d[i], d[i + 1], d[i + 2]];
        const distance = 'unlike' in test ? Math.abs(r - test.unlike[0]) + Math.abs(gr - test.unlike[1]) + Math.abs(b - test.unlike[2]) : Math.max(r, gr, b) - Math.min(r, gr, b);
        if (distance > threshold) n++;
      }
      return n;
    },
    { selector, test, threshold },
  );
}
