import { expect } from 'chai';
import { isModelError } from '../../../pipeline/models/errors.js';
import { segmentInWorker } from '../../../pipeline/segment/segment-in-worker.js';
import type { SegmentationStage } from '../../../pipeline/segment/segment-volume.js';
import type { CtVolume } from '../../../pipeline/volume/types.js';
import { nearestCentreModel, sha256, testLabel, writeModelDir } from './support/test-models.js';

type Vec3 = [number, number, number];
const LABELS = 104;

/**
 * A TotalSegmentator / nnU-Net style export runs by adding only a manifest: a fixed-size
 * patch-based graph with 105 softmax channels (background + 104 classes), NIfTI-style RAS axes
 * in x-y-z tensor order, z-score-free window normalisation. The graph's argmax is known in closed
 * form (the class whose centre is nearest the normalised HU), so every voxel can be checked.
 */
describe('pipeline/segment with a TotalSegmentator-style model (105 softmax channels, patches)', () => {
  const patch: Vec3 = [32, 24, 16];
  const onnx = nearestCentreModel(LABELS + 1, { fixed: patch });
  const manifest = {
    schemaVersion: 1,
    id: 'totalseg-like',
    name: 'TotalSegmentator-like test export',
    algorithm: { name: 'test', version: '2.0', family: { code: '123110', scheme: 'DCM', meaning: 'Artificial Intelligence' } },
    onnx: { sha256: sha256(onnx) },
    input: {
      name: 'input',
      rank: 5,
      axes: 'xyz',
      orientation: 'RAS',
      spacing: [1.5, 1.5, 1.5],
      patchSize: patch,
      overlap: 0.5,
      normalization: { kind: 'window', min: 0, max: 1040, scale: 1 / 1040 },
    },
    output: { name: 'logits', rank: 5, kind: 'softmax' },
    labels: Array.from({ length: LABELS }, (_, i) => testLabel(i + 1)),
  };
  const dims: Vec3 = [48, 41, 30];
  // Class k sits at HU 10k: HU 10k + 3 is nearest to class k's centre.
  const expectedLabel = (x: number, y: number, z: number): number => (x + 2 * y + 3 * z) % (LABELS + 1);
  const volume = (): CtVolume => {
    const hu = new Int16Array(dims[0] * dims[1] * dims[2]);
    for (let z = 0; z < dims[2]; z++) for (let y = 0; y < dims[1]; y++) for (let x = 0; x < dims[0]; x++) {
      hu[x + dims[0] * (y + dims[1] * z)] = 10 * expectedLabel(x, y, z) + 3;
    }
    return {
      dims,
      spacing: [1.5, 1.5, 1.5],
      origin: [-50, -40, 100],
      rowDirection: [1, 0, 0],
      columnDirection: [0, 1, 0],
      sliceDirection: [0, 0, 1],
      hu,
      sources: [],
      studyInstanceUID: '2.25.1',
      seriesInstanceUID: '2.25.2',
      frameOfReferenceUID: '2.25.3',
    };
  };

  it('segments every voxel as the closed form says, in a worker, with progress to 100 %', async () => {
    const dir = writeModelDir('totalseg-like', onnx, manifest);
    const progress: [number, SegmentationStage][] = [];
    const result = await segmentInWorker(volume(), dir, (p, s) => progress.push([p, s]));
    expect(result.modelId).to.equal('totalseg-like');
    expect(result.patches).to.be.above(8);
    expect(result.modelGrid.dims).to.deep.equal(dims);
    const labels = result.labelMap.labels;
    let wrong = 0;
    for (let z = 0; z < dims[2]; z++) for (let y = 0; y < dims[1]; y++) for (let x = 0; x < dims[0]; x++) {
      if (labels[x + dims[0] * (y + dims[1] * z)] !== expectedLabel(x, y, z)) wrong++;
    }
    expect(wrong).to.equal(0);
    expect(result.segments).to.have.length(LABELS);
    expect(result.segments.reduce((a, s) => a + s.voxels, 0)).to.be.above(0.98 * labels.length);
    expect(result.labelMap.origin).to.deep.equal([-50, -40, 100]);
    const percents = progress.map(([p]) => p);
    expect(percents).to.deep.equal([...percents].sort((a, b) => a - b));
    expect(progress[progress.length - 1]).to.deep.equal([100, 'done']);
  });

  it('refuses at load time a manifest whose label count does not match the 105 channels', async () => {
    const wrong = { ...manifest, labels: manifest.labels.slice(0, LABELS - 1) };
    const dir = writeModelDir('totalseg-like', onnx, wrong);
    try {
      await segmentInWorker(volume(), dir);
      expect.fail('expected a graph mismatch');
    } catch (e) {
      expect(isModelError(e, 'graph-mismatch'), String(e)).to.equal(true);
      expect((e as Error).message).to.match(/105 channels.*103 labels needs 104/);
    }
  });
});
