/** A progress bar for long CLI work, on stderr, drawn only when stderr is a terminal. */
export interface Progress {
  tick(n?: number): void;
  done(): void;
}

export function progressBar(label: string, total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || total <= 1) return { tick() {}, done() {} };
  let count = 0;
  let lastDraw = 0;
  const start = Date.now();
  const draw = (): void => {
    const width = 30;
    const filled = Math.round((count / total) * width);
    const rate = count / Math.max((Date.now() - start) / 1000, 0.001);
    stream.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${count}/${total} ${rate.toFixed(0)}/s`);
  };
  return {
    tick(n = 1) {
      count += n;
      const now = Date.now();
      if (now - lastDraw > 100 || count === total) {
        lastDraw = now;
        draw();
      }
    },
    done() {
      draw();
      stream.write('\n');
    },
  };
}
