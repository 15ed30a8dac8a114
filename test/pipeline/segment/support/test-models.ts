/**
 * Small ONNX graphs whose output is known analytically, built with the project's own encoder, and
 * a helper that lays a model out as the registry expects (model.onnx, manifest.json, MODEL_CARD.md).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, attr } from '../../../../pipeline/models/build/graph-builder.js';
import { encodeOnnxModel, type OnnxGraph } from '../../../../pipeline/models/build/onnx.js';
import { rng } from '../../../support/random.js';

const spatial = ['z', 'y', 'x'];

/** A test model around `graph`: ONNX IR 8, opset 17, the same producer fields everywhere. */
export function testModel(graph: OnnxGraph, metadata?: Record<string, string>): Uint8Array {
  return encodeOnnxModel({ irVersion: 8, opsetVersion: 17, producerName: 'limen-test', producerVersion: '1', modelVersion: 1, graph, metadata });
}

/**
 * Two stacked 3×3×3 convolutions (zero padding, ReLU between), fixed seeded weights: a local
 * operator with a receptive-field radius of 2 voxels. Input [1, 1, z, y, x], output [1, channels, z, y, x].
 */
export function twoConvModel(channels: number, seed = 1): { onnx: Uint8Array; radius: number } {
  const random = rng(seed);
  const g = new GraphBuilder();
  const x = g.input('image');
  const hidden = 4;
  const w1 = g.floats('w1', [hidden, 1, 3, 3, 3], Array.from({ length: hidden * 27 }, () => random() - 0.5));
  const b1 = g.floats('b1', [hidden], Array.from({ length: hidden }, () => random() - 0.5));
  const w2 = g.floats('w2', [channels, hidden, 3, 3, 3], Array.from({ length: channels * hidden * 27 }, () => random() - 0.5));
  const b2 = g.floats('b2', [channels], Array.from({ length: channels }, () => random() - 0.5));
  const pads = { pads: attr.ints([1, 1, 1, 1, 1, 1]), kernel_shape: attr.ints([3, 3, 3]) };
  const h = g.op('Relu', [g.op('Conv', [x, w1, b1], pads)]);
  g.op('Conv', [h, w2, b2], pads, 'scores');
  const onnx = testModel(g.graph('two_conv', [{ name: 'image', dataType: 'float', shape: [1, 1, ...spatial] }], [{ name: 'scores', dataType: 'float', shape: [1, channels, ...spatial] }]));
  return { onnx, radius: 2 };
}

/**
 * A TotalSegmentator-like head: one 1×1×1 convolution from the image to `channels` class logits.
 * Channel c's logit is 2·μc·v − μc² with μc = c / (channels − 1): the tangent at μc of −(v − μ)²,
 * so the argmax is the channel whose μc lies nearest the input value v. The spatial size can be
 * fixed (as nnU-Net exports are) or free; `axes` names the order of the spatial dims.
 */
export function nearestCentreModel(channels: number, options: { fixed?: [number, number, number] } = {}): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('input');
  const mu = Array.from({ length: channels }, (_, c) => c / (channels - 1));
  const w = g.floats('weight', [channels, 1, 1, 1, 1], mu.map((m) => 2 * m));
  const b = g.floats('bias', [channels], mu.map((m) => -m * m));
  g.op('Conv', [x, w, b], { kernel_shape: attr.ints([1, 1, 1]) }, 'logits');
  const dims: (number | string)[] = options.fixed ?? ['d0', 'd1', 'd2'];
  return testModel(g.graph('nearest_centre', [{ name: 'input', dataType: 'float', shape: [1, 1, ...dims] }], [{ name: 'logits', dataType: 'float', shape: [1, channels, ...dims] }]));
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Writes a model directory `<tmp>/<id>/` and returns its path. */
export function writeModelDir(id: string, onnx: Uint8Array, manifest: object, card = `# ${id}\n\nA test model.\n`): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'limen-model-')), id);
  mkdirSync(dir);
  writeFileSync(join(dir, 'model.onnx'), onnx);
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(dir, 'MODEL_CARD.md'), card);
  return dir;
}

/** A label entry with placeholder codes, for test manifests. */
export function testLabel(id: number, name = `label ${id}`): object {
  return {
    id,
    name,
    category: { code: '85756007', scheme: 'SCT', meaning: 'Tissue' },
    type: { code: `T${id}`, scheme: '99TEST', meaning: name },
    color: { rgb: [id % 256, (id * 37) % 256, (id * 91) % 256] },
  };
}
