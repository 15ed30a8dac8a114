import { expect } from 'chai';
import { GraphBuilder, attr } from '../../../pipeline/models/build/graph-builder.js';
import { isModelError, loadModel } from '../../../pipeline/models/index.js';
import { decideLabels, onnxRunner, segmentInWorker, segmentVolume, type Slab } from '../../../pipeline/segment/index.js';
import type { CtVolume } from '../../../pipeline/volume/types.js';
import { sha256, testLabel, testModel, writeModelDir } from './support/test-models.js';

type Vec3 = [number, number, number];

function volumeOf(dims: Vec3, huAt: (x: number, y: number, z: number) => number, shared = false): CtVolume {
  const n = dims[0] * dims[1] * dims[2];
  const hu = shared ? new Int16Array(new SharedArrayBuffer(n * 2)) : new Int16Array(n);
  for (let z = 0; z < dims[2]; z++) for (let y = 0; y < dims[1]; y++) for (let x = 0; x < dims[0]; x++) hu[x + dims[0] * (y + dims[1] * z)] = huAt(x, y, z);
  return {
    dims,
    spacing: [1, 1, 2],
    origin: [0, 0, 0],
    rowDirection: [1, 0, 0],
    columnDirection: [0, 1, 0],
    sliceDirection: [0, 0, 1],
    hu,
    sources: [],
    studyInstanceUID: '2.25.1',
    seriesInstanceUID: '2.25.2',
    frameOfReferenceUID: '2.25.3',
  };
}

/**
 * A graph that outputs label ids directly (int64, rank 4): `floor(v)` clipped to 0..3 via Cast,
 * so label = the normalised intensity's integer part.
 */
function labelModel(): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('input');
  const clipped = g.op('Clip', [x, g.floats('lo', [], [0]), g.floats('hi', [], [3])]);
  const floored = g.op('Floor', [clipped]);
  const squeezed = g.op('Squeeze', [floored, g.int64s('axes', [1])]);
  g.op('Cast', [squeezed], { to: attr.int(7) }, 'labels');
  return testModel(g.graph('labels', [{ name: 'input', dataType: 'float', shape: [1, 1, 'z', 'y', 'x'] }], [{ name: 'labels', dataType: 'int64', shape: [1, 'z', 'y', 'x'] }]));
}

const labelManifest = (onnx: Uint8Array): object => ({
  schemaVersion: 1,
  id: 'ids',
  name: 'label ids',
  algorithm: { name: 'ids', version: '1', family: { code: '123110', scheme: 'DCM', meaning: 'Artificial Intelligence' } },
  onnx: { sha256: sha256(onnx) },
  input: { name: 'input', rank: 5, spacing: [1, 1, 1], patchSize: [8, 8, 8], overlap: 0.5, normalization: { kind: 'window', min: 0, max: 400, scale: 0.01 } },
  output: { name: 'labels', rank: 4, kind: 'labels' },
  labels: [testLabel(1), testLabel(2), testLabel(3)],
});

describe('pipeline/segment segmentVolume and segmentInWorker', () => {
  it('runs a label-output model (int64, rank 4) through resampling, patches and back', async () => {
    const onnx = labelModel();
    const model = await loadModel(writeModelDir('ids', onnx, labelManifest(onnx)));
    try {
      // Bands along x, 100 HU wide: label = floor(HU / 100). Slices 2 mm apart, the model at 1 mm.
      const dims: Vec3 = [20, 9, 7];
      const volume = volumeOf(dims, (x) => 100 * Math.floor(x / 5) + 50);
      const result = await segmentVolume(volume, model.manifest, onnxRunner(model), { sha256: model.sha256 });
      expect(result.modelGrid.dims).to.deep.equal([20, 9, 13]);
      expect(result.patches).to.be.above(1);
      const labels = result.labelMap.labels;
      for (let i = 0; i < labels.length; i++) expect(labels[i]).to.equal(Math.min(3, Math.floor((i % 20) / 5)));
      expect(result.segments.map((s) => s.voxels)).to.deep.equal([5 * 9 * 7, 5 * 9 * 7, 5 * 9 * 7]);
      expect(result.segments[0].volumeMl).to.be.closeTo((5 * 9 * 7 * 2) / 1000, 1e-9);
    } finally {
      await model.close();
    }
  });

  it('decides softmax by argmax, sigmoid by threshold then the highest score', () => {
    const slab = (scores: number[][], weights: number[]): Slab => ({
      z0: 0,
      z1: 1,
      scores: Float32Array.from(scores.flat()),
      channelStride: weights.length,
      weights: Float32Array.from(weights),
    });
    const target = new Uint8Array(3);
    decideLabels(slab([[5, 1, 0], [1, 4, 0], [0, 4, 9]], [1, 1, 1]), { kind: 'softmax', threshold: 0.5 }, 2, target, new Float32Array(3));
    expect([...target]).to.deep.equal([0, 1, 2]);
    // Weighted sums over weight 2: scores 0.3/0.8, 0.9/0.6, 0.2/0.4 → label 0 where none passes 0.5.
    decideLabels(slab([[0.6, 1.8, 0.4], [1.6, 1.2, 0.8]], [2, 2, 2]), { kind: 'sigmoid', threshold: 0.5 }, 2, target, new Float32Array(3));
    expect([...target]).to.deep.equal([2, 1, 0]);
    expect(() => decideLabels(slab([[7, 1, 0]], [1, 1, 1]), { kind: 'labels', threshold: 0.5 }, 2, target, new Float32Array(3))).to.throw(/outside 0..2/);
  });

  it('shares a SharedArrayBuffer volume with the worker, and rejects with the worker’s ModelError', async () => {
    const onnx = labelModel();
    const dir = writeModelDir('ids', onnx, labelManifest(onnx));
    const volume = volumeOf([12, 6, 5], (x) => (x < 6 ? 150 : 250), true);
    const result = await segmentInWorker(volume, dir);
    expect(result.labelMap.labels.filter((l) => l === 1).length).to.equal(6 * 6 * 5);
    expect(result.labelMap.labels.filter((l) => l === 2).length).to.equal(6 * 6 * 5);
    try {
      await segmentInWorker(volume, `${dir}-missing`);
      expect.fail('expected a missing model');
    } catch (e) {
      expect(isModelError(e, 'missing-file'), String(e)).to.equal(true);
    }
    const bad = { ...volume, hu: volume.hu.subarray(1) };
    try {
      await segmentInWorker(bad, dir);
      expect.fail('expected an invalid volume');
    } catch (e) {
      expect(isModelError(e, 'invalid-volume'), String(e)).to.equal(true);
    }
  });

  it('stops the worker when aborted', async () => {
    const onnx = labelModel();
    const dir = writeModelDir('ids', onnx, labelManifest(onnx));
    const controller = new AbortController();
    const pending = segmentInWorker(volumeOf([64, 64, 64], () => 100), dir, undefined, { signal: controller.signal });
    controller.abort(new Error('cancelled by test'));
    try {
      await pending;
      expect.fail('expected an abort');
    } catch (e) {
      expect((e as Error).message).to.equal('cancelled by test');
    }
  });
});
