import { expect } from 'chai';
import * as ort from 'onnxruntime-node';
import { GraphBuilder, attr } from '../../../pipeline/models/build/graph-builder.js';
import { ProtoWriter } from '../../../pipeline/models/build/protobuf.js';
import { testModel } from '../segment/support/test-models.js';


async function run(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return (await session.run(feeds)) as Record<string, ort.Tensor>;
  } finally {
    await session.release();
  }
}

describe('pipeline/models/build ONNX encoder', () => {
  it('writes protobuf varints as the wire format defines them, negatives in ten bytes', () => {
    const w = new ProtoWriter();
    w.int(1, 150).int(2, -1).float(3, 1.5).string(4, 'ab');
    expect([...w.finish()]).to.deep.equal([
      0x08, 0x96, 0x01,
      0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
      0x1d, 0x00, 0x00, 0xc0, 0x3f,
      0x22, 0x02, 0x61, 0x62,
    ]);
  });

  it('encodes a 3D convolution that onnxruntime computes as a direct convolution does', async () => {
    const [nz, ny, nx] = [4, 5, 6];
    const weights = Array.from({ length: 27 }, (_, i) => ((i * 7) % 11) / 10 - 0.5);
    const g = new GraphBuilder();
    const x = g.input('x');
    g.op('Conv', [x, g.floats('w', [1, 1, 3, 3, 3], weights), g.floats('b', [1], [0.25])], { pads: attr.ints([1, 1, 1, 1, 1, 1]) }, 'y');
    const bytes = testModel(g.graph('conv', [{ name: 'x', dataType: 'float', shape: [1, 1, 'z', 'y', 'x'] }], [{ name: 'y', dataType: 'float', shape: [1, 1, 'z', 'y', 'x'] }]));
    const input = Float32Array.from({ length: nz * ny * nx }, (_, i) => Math.sin(i));
    const out = (await run(bytes, { x: new ort.Tensor('float32', input, [1, 1, nz, ny, nx]) })).y.data as Float32Array;
    const at = (z: number, y: number, xx: number): number => (z < 0 || y < 0 || xx < 0 || z >= nz || y >= ny || xx >= nx ? 0 : input[(z * ny + y) * nx + xx]);
    for (let z = 0; z < nz; z++) for (let y = 0; y < ny; y++) for (let xx = 0; xx < nx; xx++) {
      let s = 0.25;
      for (let dz = 0; dz < 3; dz++) for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) s += weights[(dz * 3 + dy) * 3 + dx] * at(z + dz - 1, y + dy - 1, xx + dx - 1);
      expect(out[(z * ny + y) * nx + xx]).to.be.closeTo(s, 1e-5);
    }
  });

  it('encodes float, negative int and string attributes, int64 initializers and multi-output nodes', async () => {
    const g = new GraphBuilder();
    const x = g.input('x');
    const padded = g.op('Pad', [x, g.int64s('pads', [0, 1, 0, 2])], { mode: attr.string('edge') });
    const leaky = g.op('LeakyRelu', [padded], { alpha: attr.float(0.125) });
    const [a, b] = g.opMulti('Split', [leaky], 2, { axis: attr.int(-1) });
    g.op('Concat', [b, a], { axis: attr.int(-1) }, 'y');
    const bytes = testModel(g.graph('attrs', [{ name: 'x', dataType: 'float', shape: [2, 3] }], [{ name: 'y', dataType: 'float', shape: [2, 6] }]));
    const out = (await run(bytes, { x: new ort.Tensor('float32', Float32Array.from([1, -8, 3, -16, 5, 6]), [2, 3]) })).y;
    // Edge pad: [1,1,-8,3,3,3] and [-16,-16,5,6,6,6]; LeakyRelu 0.125; halves swapped.
    expect(out.dims).to.deep.equal([2, 6]);
    expect([...(out.data as Float32Array)]).to.deep.equal([3, 3, 3, 1, 1, -1, 6, 6, 6, -2, -2, 5]);
  });

  it('is deterministic: the same description gives the same bytes', () => {
    const build = (): Uint8Array => {
      const g = new GraphBuilder();
      g.op('Relu', [g.input('x')], undefined, 'y');
      return testModel(g.graph('relu', [{ name: 'x', dataType: 'float', shape: ['n'] }], [{ name: 'y', dataType: 'float', shape: ['n'] }]), { a: '1', b: '2' });
    };
    expect(Buffer.from(build()).equals(Buffer.from(build()))).to.equal(true);
  });
});
