import { expect } from 'chai';
import * as ort from 'onnxruntime-node';
import { axisWeights, planWindows, slidingWindow, windowStarts, type Slab } from '../../../pipeline/segment/sliding-window.js';
import { rng } from '../../support/random.js';
import { twoConvModel } from './support/test-models.js';

type Vec3 = [number, number, number];

describe('pipeline/segment sliding window', () => {
  describe('windowStarts', () => {
    it('starts at 0, ends at the border, and never steps further than the patch less the overlap', () => {
      for (const [size, patch, overlap] of [
        [100, 32, 0.5],
        [129, 128, 0.125],
        [243, 128, 0.125],
        [64, 64, 0.5],
        [7, 3, 0.5],
        [1000, 96, 0.25],
      ]) {
        const starts = windowStarts(size, patch, overlap);
        const target = Math.max(1, Math.floor(patch * (1 - overlap)));
        expect(starts[0]).to.equal(0);
        expect(starts[starts.length - 1] + patch).to.equal(size);
        for (let k = 1; k < starts.length; k++) {
          expect(starts[k] - starts[k - 1]).to.be.within(1, target);
        }
        // As few windows as that allows.
        expect(starts.length).to.equal(Math.ceil((size - patch) / target) + 1);
      }
      expect(windowStarts(20, 32, 0.5)).to.deep.equal([0]);
    });

    it('gives a smaller graph-free patch when the grid is smaller, and a fixed graph its own size', () => {
      expect(planWindows([50, 200, 10], [64, 64, 64], 0.5, 0, false).patch).to.deep.equal([50, 64, 10]);
      expect(planWindows([50, 200, 10], [64, 64, 64], 0.5, 0, true).patch).to.deep.equal([64, 64, 64]);
      expect(planWindows([50, 200, 10], null, 0.5, 0, false)).to.include({ gaussian: false, margin: 0 });
    });
  });

  describe('axisWeights', () => {
    it('is nnU-Net’s Gaussian (σ = patch/8, peak 1 at the centre), with the margin zeroed on inner faces only', () => {
      const w = axisWeights(16, 0, 100, 0, true);
      expect(w[8]).to.equal(1);
      expect(w[0]).to.be.closeTo(Math.exp(-64 / 8), 1e-7);
      const first = axisWeights(16, 0, 100, 3, true);
      expect([...first.subarray(0, 3)].every((v) => v > 0), 'the grid border keeps its weight').to.equal(true);
      expect([...first.subarray(13)]).to.deep.equal([0, 0, 0]);
      const middle = axisWeights(16, 40, 100, 3, true);
      expect([...middle.subarray(0, 3)]).to.deep.equal([0, 0, 0]);
      const last = axisWeights(16, 84, 100, 3, true);
      expect([...last.subarray(13)].every((v) => v > 0)).to.equal(true);
    });
  });

  /*
   * Why the sliding window is exact. The test network is two 3×3×3 convolutions: the value at a voxel
   * depends only on the input within 2 voxels (its receptive field). A patch computes that value
   * exactly as the whole-volume run does whenever the receptive field lies inside the patch, or
   * the patch face it crosses is the volume's own border (where both runs see the same zero
   * padding). The window's result at a voxel is Σ w_p·f_p / Σ w_p over the patches p covering it;
   * if every f_p with w_p > 0 equals the whole-volume value f, the Gaussian weights cancel and the
   * result is f. A patch margin ≥ the radius zeroes exactly the weights of the patches for which
   * f_p may differ; the manifest check guarantees each voxel keeps at least one positive weight.
   */
  describe('exactness against one whole-volume run (a fixed convolution network)', () => {
    const grid: Vec3 = [41, 37, 29];
    const patch: Vec3 = [16, 16, 16];
    const channels = 3;
    const { onnx, radius } = twoConvModel(channels, 42);
    const voxels = grid[0] * grid[1] * grid[2];
    const image = new Float32Array(voxels).map(rng(5));
    let session: ort.InferenceSession;
    let whole: Float32Array;

    const run = async (data: Float32Array, size: Vec3): Promise<Float32Array> => {
      const r = await session.run({ image: new ort.Tensor('float32', data, [1, 1, size[2], size[1], size[0]]) });
      return r.scores.data as Float32Array;
    };

    /** Weighted-mean scores of the sliding window over the whole grid (channel-major, x fastest). */
    const patchwise = async (margin: number): Promise<Float32Array> => {
      const plan = planWindows(grid, patch, 0.5, margin, false);
      const out = new Float32Array(channels * voxels);
      const plane = grid[0] * grid[1];
      await slidingWindow({
        plan,
        channels,
        mode: 'mean',
        axes: [2, 1, 0],
        runPatch: async (box) => {
          const [sx, sy, sz] = box.start;
          const [px, py, pz] = box.size;
          const crop = new Float32Array(px * py * pz);
          for (let z = 0; z < pz; z++) for (let y = 0; y < py; y++) {
            const from = sx + grid[0] * (sy + y + grid[1] * (sz + z));
            crop.set(image.subarray(from, from + px), px * (y + py * z));
          }
          return run(crop, box.size as Vec3);
        },
        onSlab: (s: Slab) => {
          const n = (s.z1 - s.z0) * plane;
          for (let c = 0; c < channels; c++) {
            for (let v = 0; v < n; v++) out[c * voxels + s.z0 * plane + v] = s.scores[c * s.channelStride + v] / s.weights[v];
          }
        },
      });
      return out;
    };

    before(async () => {
      session = await ort.InferenceSession.create(onnx);
      whole = await run(image, grid);
    });
    after(async () => session?.release());

    it(`with a margin of the receptive radius (${radius}), every voxel equals the whole-volume value`, async () => {
      const got = await patchwise(radius);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - whole[i]));
      expect(worst).to.be.below(1e-5);
      // The network is not trivial: its scores vary across the volume.
      const spread = Math.max(...whole.subarray(0, 1000)) - Math.min(...whole.subarray(0, 1000));
      expect(spread).to.be.above(0.5);
    });

    it('without a margin (nnU-Net), exact only where every covering patch holds the receptive field', async () => {
      const got = await patchwise(0);
      const plan = planWindows(grid, patch, 0.5, 0, false);
      // Per axis: does every patch covering coordinate q hold [q − r, q + r] (or reach the border there)?
      const safe = [0, 1, 2].map((m) => {
        const ok = new Uint8Array(grid[m]);
        for (let q = 0; q < grid[m]; q++) {
          ok[q] = plan.starts[m]
            .filter((s) => s <= q && q < s + patch[m])
            .every((s) => (q - s >= radius || s === 0) && (s + patch[m] - 1 - q >= radius || s + patch[m] === grid[m]))
            ? 1
            : 0;
        }
        return ok;
      });
      let safeWorst = 0;
      let unsafeWorst = 0;
      let unsafeCount = 0;
      for (let z = 0; z < grid[2]; z++) for (let y = 0; y < grid[1]; y++) for (let x = 0; x < grid[0]; x++) {
        const v = x + grid[0] * (y + grid[1] * z);
        const isSafe = safe[0][x] && safe[1][y] && safe[2][z];
        for (let c = 0; c < channels; c++) {
          const d = Math.abs(got[c * voxels + v] - whole[c * voxels + v]);
          if (isSafe) safeWorst = Math.max(safeWorst, d);
          else unsafeWorst = Math.max(unsafeWorst, d);
        }
        if (!isSafe) unsafeCount++;
      }
      expect(unsafeCount).to.be.above(0);
      expect(safeWorst).to.be.below(1e-5);
      // Where a patch edge cuts the receptive field, the padded patch disagrees: the margin matters.
      expect(unsafeWorst).to.be.above(1e-3);
    });
  });
});
