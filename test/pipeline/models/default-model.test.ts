import { expect } from 'chai';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_MODEL_PARAMETERS,
  SHIPPED_DEFAULT_DIR,
  buildDefaultOnnx,
  defaultManifest,
  receptiveRadius,
  writeDefaultModel,
} from '../../../pipeline/models/build/default-model.js';
import { loadModel } from '../../../pipeline/models/registry.js';
import { postprocessLabels } from '../../../pipeline/postprocess/index.js';
import { inferModelGrid, onnxRunner, segmentInWorker, type SegmentationResult } from '../../../pipeline/segment/index.js';
import { loadFakephiCt, loadReferenceLabels, referenceBoneIds, type FakephiCt } from '../segment/support/fakephi-ct.js';

const file = (name: string): Buffer => readFileSync(join(SHIPPED_DEFAULT_DIR, name));

/** Dice of two voxel predicates over n voxels. */
function dice(n: number, a: (i: number) => boolean, b: (i: number) => boolean): number {
  let both = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < n; i++) {
    const x = a(i);
    const y = b(i);
    if (x) na++;
    if (y) nb++;
    if (x && y) both++;
  }
  return (2 * both) / (na + nb);
}

/**
 * The body reference, derived from the CT alone at its own resolution and without smoothing:
 * HU > −500 (halfway between air and fat), the largest 6-connected component (the patient, not
 * the table), its 3D cavities filled, then each axial slice's enclosed air filled (the lungs, cut
 * open by the scan's upper end). A fair reference because it is the textbook definition of the
 * body outline, shares none of the model's parameters but the threshold, and contains every voxel
 * TotalSegmentator labelled (asserted below).
 */
function bodyReference(ct: FakephiCt): Uint8Array {
  const mask = new Uint8Array(ct.hu.length);
  for (let i = 0; i < mask.length; i++) mask[i] = ct.hu[i] > -500 ? 1 : 0;
  postprocessLabels(mask, ct, [{ id: 1, contains: [], postprocess: { largestComponent: true, minComponentVolumeMl: 0, fillHoles: true, fillHolesPerSlice: true } }]);
  return mask;
}

/** The figure the model card states on the line naming `what`. */
function cardFigure(card: string, what: string): number {
  const m = new RegExp(`\\| ${what} \\|[^\\n]*?\\| (\\d+\\.\\d+) \\|`).exec(card);
  if (!m) throw new Error(`MODEL_CARD.md states no figure for "${what}"`);
  return Number(m[1]);
}

describe('models/default: the shipped bone and body surface model', () => {
  describe('build', () => {
    it('rebuilds byte-identically, and the shipped files are what the builder writes', async () => {
      const a = buildDefaultOnnx();
      const b = buildDefaultOnnx();
      expect(Buffer.from(a).equals(Buffer.from(b))).to.equal(true);
      expect(Buffer.from(a).equals(file('model.onnx')), 'models/default/model.onnx is stale: run npm run build:model').to.equal(true);
      const manifestText = `${JSON.stringify(defaultManifest(a), null, 2)}\n`;
      expect(manifestText === file('manifest.json').toString('utf8'), 'models/default/manifest.json is stale: run npm run build:model').to.equal(true);
      const dirs = [1, 2].map(() => join(mkdtempSync(join(tmpdir(), 'limen-default-')), 'default'));
      for (const dir of dirs) await writeDefaultModel(dir);
      for (const name of ['model.onnx', 'manifest.json']) {
        expect(readFileSync(join(dirs[0], name)).equals(readFileSync(join(dirs[1], name))), name).to.equal(true);
      }
    });

    it('is small, and its patch margin covers the graph’s receptive field (so patches are exact)', () => {
      expect(statSync(join(SHIPPED_DEFAULT_DIR, 'model.onnx')).size).to.be.below(1024 * 1024);
      const manifest = defaultManifest(buildDefaultOnnx());
      expect(manifest.input.patchMargin).to.be.at.least(receptiveRadius(DEFAULT_MODEL_PARAMETERS));
      expect(manifest.algorithm.version).to.equal(DEFAULT_MODEL_PARAMETERS.version);
    });
  });

  describe('on ct-fakephi against TotalSegmentator', function () {
    this.timeout(180_000);
    let ct: FakephiCt;
    let reference: Uint8Array;
    let result: SegmentationResult;
    let maxLoopGapMs = 0;
    let elapsedMs = 0;

    before(async () => {
      ct = loadFakephiCt();
      reference = loadReferenceLabels();
      expect(reference.length).to.equal(ct.hu.length);
      let last = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        maxLoopGapMs = Math.max(maxLoopGapMs, now - last);
        last = now;
      }, 10);
      const t0 = performance.now();
      try {
        result = await segmentInWorker(ct, SHIPPED_DEFAULT_DIR);
      } finally {
        clearInterval(timer);
      }
      elapsedMs = performance.now() - t0;
    });

    it('keeps the event loop responsive while the model runs in its worker', () => {
      expect(elapsedMs).to.be.above(1000);
      expect(maxLoopGapMs).to.be.below(500);
    });

    it('reaches bone Dice ≥ 0.85 (union of TotalSegmentator’s bone labels, costal cartilage excluded), as the card states', () => {
      const bones = new Set(referenceBoneIds());
      expect(bones.has(117)).to.equal(false);
      const labels = result.labelMap.labels;
      const d = dice(labels.length, (i) => labels[i] === 2, (i) => bones.has(reference[i]));
      expect(d).to.be.at.least(0.85);
      expect(cardFigure(readFileSync(join(SHIPPED_DEFAULT_DIR, 'MODEL_CARD.md'), 'utf8'), 'Bone Dice')).to.be.closeTo(d, 0.0005);
    });

    it('reaches body Dice ≥ 0.95 against the HU-derived body, containing every TotalSegmentator voxel, as the card states', () => {
      const body = bodyReference(ct);
      const labels = result.labelMap.labels;
      // The body segment's solid is the body label with the bone it contains.
      const d = dice(labels.length, (i) => labels[i] !== 0, (i) => body[i] === 1);
      let labelled = 0;
      let insideReference = 0;
      let insideModel = 0;
      for (let i = 0; i < labels.length; i++) {
        if (reference[i] === 0) continue;
        labelled++;
        if (body[i] === 1) insideReference++;
        if (labels[i] !== 0) insideModel++;
      }
      expect(d).to.be.at.least(0.95);
      expect(insideReference / labelled, 'the reference holds all of TotalSegmentator’s anatomy').to.be.at.least(0.999);
      expect(insideModel / labelled).to.be.at.least(0.99);
      const card = readFileSync(join(SHIPPED_DEFAULT_DIR, 'MODEL_CARD.md'), 'utf8');
      expect(cardFigure(card, 'Body Dice')).to.be.closeTo(d, 0.0005);
      expect(cardFigure(card, 'TotalSegmentator voxels inside the body')).to.be.closeTo(insideModel / labelled, 0.0005);
    });

    it('reports segments, volumes and the model grid', () => {
      expect(result.modelId).to.equal('default');
      expect(result.segments.map((s) => s.name)).to.deep.equal(['Body', 'Bone']);
      const voxelMl = (ct.spacing[0] * ct.spacing[1] * ct.spacing[2]) / 1000;
      for (const s of result.segments) expect(s.volumeMl).to.be.closeTo(s.voxels * voxelMl, 1e-6);
      expect(result.modelGrid.spacing).to.deep.equal([1.5, 1.5, 1.5]);
      expect(result.postprocess.find((p) => p.id === 1)?.filledVoxels, 'lungs and bowel gas filled into the body').to.be.above(1000);
    });

    it('gives the same labels patch by patch as in one whole-volume run', async () => {
      // A slab of the CT keeps this quick; the margin makes patches exact, so labels may differ only
      // where two classes tie to float precision.
      const slices = 40;
      const plane = ct.dims[0] * ct.dims[1];
      const slab = { ...ct, dims: [ct.dims[0], ct.dims[1], slices] as [number, number, number], hu: ct.hu.subarray(30 * plane, (30 + slices) * plane) };
      const model = await loadModel(SHIPPED_DEFAULT_DIR);
      try {
        const runner = onnxRunner(model);
        const patched = await inferModelGrid(slab, model.manifest, runner);
        const whole = await inferModelGrid(slab, { ...model.manifest, input: { ...model.manifest.input, patchSize: null, patchMargin: 0 } }, runner);
        expect(patched.patches).to.be.above(1);
        expect(whole.patches).to.equal(1);
        let differ = 0;
        for (let i = 0; i < whole.labels.length; i++) if (whole.labels[i] !== patched.labels[i]) differ++;
        expect(differ / whole.labels.length).to.be.below(1e-5);
        expect(new Set(whole.labels)).to.deep.equal(new Set([0, 1, 2]));
      } finally {
        await model.close();
      }
    });
  });
});
