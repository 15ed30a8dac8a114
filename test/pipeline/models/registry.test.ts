import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isModelError, listModels, loadModel, modelDir, safeParseManifest } from '../../../pipeline/models/index.js';
import { nearestCentreModel, sha256, testLabel, twoConvModel, writeModelDir } from '../segment/support/test-models.js';

const MODELS = fileURLToPath(new URL('../../../models/', import.meta.url));
const shipped = JSON.parse(readFileSync(join(MODELS, 'default', 'manifest.json'), 'utf8')) as Record<string, unknown>;
const clone = <T>(v: T): T => structuredClone(v);

async function loadError(dir: string): Promise<Error & { code?: string; path?: string }> {
  try {
    const m = await loadModel(dir);
    await m.close();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected loadModel to fail');
}

/** A free-size 1×1×1 conv model with `channels` outputs, and a manifest for it. */
function smallModel(channels: number, labels: number, edit: (m: Record<string, any>) => void = () => {}): string {
  const onnx = nearestCentreModel(channels);
  const manifest: Record<string, any> = {
    schemaVersion: 1,
    id: 'small',
    name: 'small',
    algorithm: { name: 'small', version: '1', family: { code: '123110', scheme: 'DCM', meaning: 'Artificial Intelligence' } },
    onnx: { sha256: sha256(onnx) },
    input: { name: 'input', rank: 5, spacing: null, patchSize: null, normalization: { kind: 'zscore', mean: 0, std: 100 } },
    output: { name: 'logits', rank: 5, kind: 'softmax' },
    labels: Array.from({ length: labels }, (_, i) => testLabel(i + 1)),
  };
  edit(manifest);
  return writeModelDir('small', onnx, manifest);
}

describe('pipeline/models manifest and registry', () => {
  describe('manifest', () => {
    it('accepts the shipped default manifest and fills defaults', () => {
      const r = safeParseManifest(shipped);
      expect(r.ok, JSON.stringify(!r.ok && r.issues)).to.equal(true);
      if (r.ok) expect(r.manifest.labels.map((l) => l.name)).to.deep.equal(['Body', 'Bone']);
    });

    it('reports every problem with its path', () => {
      const m = clone(shipped) as any;
      m.labels[1].id = 5;
      m.labels[0].contains = [1];
      m.labels[1].color = {};
      m.onnx.sha256 = 'ABC';
      m.input.normalization = { kind: 'window', min: 100, max: 0, scale: 1 };
      m.input.colour = 'red';
      const r = safeParseManifest(m);
      expect(r.ok).to.equal(false);
      const issues = r.ok ? [] : r.issues;
      const paths = issues.map((i) => i.path);
      expect(paths).to.include.members(['labels[1].color', 'onnx.sha256', 'input.normalization.max', 'input']);
      expect(issues.find((i) => i.path === 'input')?.message).to.match(/colour/);
    });

    it('checks label ids, containment and the patch margin across fields', () => {
      const ids = clone(shipped) as any;
      ids.labels[1].id = 3;
      const idIssues = safeParseManifest(ids);
      expect(!idIssues.ok && idIssues.issues.some((i) => i.path === 'labels[1].id' && /expected 2/.test(i.message))).to.equal(true);
      const cycle = clone(shipped) as any;
      cycle.labels[1].contains = [1];
      const cycleIssues = safeParseManifest(cycle);
      expect(!cycleIssues.ok && cycleIssues.issues.some((i) => /cycle/.test(i.message))).to.equal(true);
      const margin = clone(shipped) as any;
      margin.input.patchMargin = 40;
      const marginIssues = safeParseManifest(margin);
      expect(!marginIssues.ok && marginIssues.issues.some((i) => i.path === 'input.patchMargin' && /step/.test(i.message))).to.equal(true);
      const rank = clone(shipped) as any;
      rank.output.rank = 4;
      expect(safeParseManifest(rank).ok).to.equal(false);
    });
  });

  describe('loadModel', () => {
    it('loads the shipped default model: checksum, graph and card', async () => {
      const m = await loadModel(modelDir(MODELS, 'default'));
      try {
        expect(m.id).to.equal('default');
        expect(m.sha256).to.equal(m.manifest.onnx.sha256);
        expect(m.modelCard).to.match(/Intended use/);
        expect(m.facts.fixedSpatialSize).to.equal(false);
      } finally {
        await m.close();
      }
    });

    it('refuses an ONNX file whose SHA-256 is not the manifest’s', async () => {
      const dir = smallModel(3, 2);
      const bytes = readFileSync(join(dir, 'model.onnx'));
      bytes[bytes.length - 1] ^= 1;
      writeFileSync(join(dir, 'model.onnx'), bytes);
      const e = await loadError(dir);
      expect(isModelError(e, 'checksum-mismatch'), e.message).to.equal(true);
    });

    it('names the mismatch when the graph and the manifest disagree', async () => {
      const cases: [string, (m: Record<string, any>) => void, RegExp][] = [
        ['input.name', (m) => (m.input.name = 'ct'), /no input "ct" \(its inputs: "input"\)/],
        ['output.name', (m) => (m.output.name = 'probabilities'), /no output "probabilities" \(its outputs: "logits"\)/],
        ['input.rank', (m) => (m.input.rank = 4), /rank 5 .*manifest says 4/],
        ['labels', (m) => (m.labels = m.labels.slice(0, 1)), /3 channels; a softmax output with 1 label needs 2/],
      ];
      for (const [path, edit, message] of cases) {
        const e = await loadError(smallModel(3, 2, edit));
        expect(isModelError(e, 'graph-mismatch'), `${path}: ${e.message}`).to.equal(true);
        expect(e.message, path).to.match(message);
        expect(e.path, path).to.match(new RegExp(`manifest\\.json#${path.replace('.', '\\.')}$`));
      }
      // Sigmoid: one channel per label, no background. Three labels fit three channels.
      const sigmoid = await loadModel(smallModel(3, 3, (m) => (m.output.kind = 'sigmoid')));
      await sigmoid.close();
    });

    it('refuses a fixed-size graph run as a whole volume, or with another patch size', async () => {
      const onnx = nearestCentreModel(3, { fixed: [8, 8, 8] });
      const base = {
        schemaVersion: 1,
        id: 'fixed',
        name: 'fixed',
        algorithm: { name: 'f', version: '1', family: { code: '123110', scheme: 'DCM', meaning: 'Artificial Intelligence' } },
        onnx: { sha256: sha256(onnx) },
        input: { name: 'input', rank: 5, spacing: null, patchSize: null, normalization: { kind: 'zscore', mean: 0, std: 1 } },
        output: { name: 'logits', rank: 5, kind: 'softmax' },
        labels: [testLabel(1), testLabel(2)],
      };
      expect((await loadError(writeModelDir('fixed', onnx, base))).message).to.match(/fixed size.*needs a patch size/);
      const other = { ...base, input: { ...base.input, patchSize: [8, 8, 16] } };
      expect((await loadError(writeModelDir('fixed', onnx, other))).message).to.match(/\[8, 8, 8\].*\[16, 8, 8\]/);
      const right = await loadModel(writeModelDir('fixed', onnx, { ...base, input: { ...base.input, patchSize: [8, 8, 8] } }));
      expect(right.facts.fixedSpatialSize).to.equal(true);
      await right.close();
    });

    it('refuses a missing card, an id that is not the directory, and bytes that are not ONNX', async () => {
      const { onnx } = twoConvModel(2);
      const manifest = {
        schemaVersion: 1,
        id: 'conv',
        name: 'conv',
        algorithm: { name: 'c', version: '1', family: { code: '123110', scheme: 'DCM', meaning: 'Artificial Intelligence' } },
        onnx: { sha256: sha256(onnx) },
        input: { name: 'image', rank: 5, spacing: null, patchSize: null, normalization: { kind: 'zscore', mean: 0, std: 1 } },
        output: { name: 'scores', rank: 5, kind: 'sigmoid' },
        labels: [testLabel(1), testLabel(2)],
      };
      expect(isModelError(await loadError(writeModelDir('conv', onnx, manifest, '  \n')), 'missing-file')).to.equal(true);
      expect((await loadError(writeModelDir('other', onnx, manifest))).message).to.match(/id "conv" differs from the directory name "other"/);
      const junk = new TextEncoder().encode('not a model');
      const e = await loadError(writeModelDir('conv', junk, { ...manifest, onnx: { sha256: sha256(junk) } }));
      expect(isModelError(e, 'invalid-onnx'), e.message).to.equal(true);
    });

    it('refuses a model id that could escape the models directory', () => {
      expect(() => modelDir(MODELS, '../etc')).to.throw(/not a model id/);
    });
  });

  describe('listModels', () => {
    it('lists valid models and says why a broken one is not usable', async () => {
      const root = mkdtempSync(join(tmpdir(), 'limen-models-'));
      const good = smallModel(3, 2);
      mkdirSync(join(root, 'small'));
      for (const f of ['model.onnx', 'manifest.json', 'MODEL_CARD.md']) writeFileSync(join(root, 'small', f), readFileSync(join(good, f)));
      mkdirSync(join(root, 'broken'));
      writeFileSync(join(root, 'broken', 'manifest.json'), '{"schemaVersion": 1');
      mkdirSync(join(root, 'not-a-model'));
      const list = await listModels(root);
      expect(list.map((l) => l.id)).to.deep.equal(['broken', 'small']);
      expect('error' in list[0] && list[0].error.code).to.equal('invalid-manifest');
      expect('manifest' in list[1] && list[1].manifest.labels.length).to.equal(2);
      const shippedList = await listModels(MODELS);
      expect(shippedList.map((l) => l.id)).to.include('default');
    });
  });
});
