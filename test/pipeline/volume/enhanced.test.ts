/**
 * Multi-frame Enhanced CT: geometry from the Shared and Per-frame Functional Groups, per-frame
 * rescale, and compressed multi-frame pixel data (one fragment per frame, Basic Offset Table, and
 * frames split over many fragments), against the single-frame series it was built from.
 */
import { expect } from 'chai';
import { assembleVolume, type CtVolume } from '../../../pipeline/volume/index.js';
import { requirePeers } from '../../support/peers.js';
import { convertEach, enhancedCt, fakephiInputs, firstDifference, shuffled, tempDir, transferSyntaxOf, writeAll, type Input } from './support.js';

async function assembled(inputs: Input[]): Promise<CtVolume> {
  const result = await assembleVolume(inputs);
  if (!result.ok) throw new Error(`assembly failed: ${result.error.code}: ${result.error.message}`);
  return result.volume;
}

describe('pipeline/volume: Enhanced CT', () => {
  let reference: CtVolume;
  let slices: Input[];

  before(async () => {
    slices = fakephiInputs();
    reference = await assembled(slices);
  });

  it('assembles 112 frames (stored superior first, in shuffled order) to the same HU and grid as the single-frame series', async () => {
    const enhanced = enhancedCt(shuffled(slices, 99));
    const volume = await assembled([enhanced]);
    expect(volume.dims).to.deep.equal(reference.dims);
    expect(volume.spacing[2]).to.be.closeTo(3, 1e-6);
    expect(volume.origin).to.deep.equal(reference.origin);
    expect(firstDifference(volume.hu, reference.hu)).to.equal(-1);
    expect(volume.sources[0].sopClassUID).to.equal('1.2.840.10008.5.1.4.1.1.2.1');
    expect(new Set(volume.sources.map((s) => s.sopInstanceUID)).size).to.equal(1);
    const frames = volume.sources.map((s) => s.frameNumber);
    expect([...frames].sort((a, b) => a! - b!)).to.deep.equal(Array.from({ length: 112 }, (_, i) => i + 1));
    expect(volume.sources.map((s) => s.position)).to.deep.equal(reference.sources.map((s) => s.position));
  });

  it('applies each frame’s own PixelValueTransformation', async () => {
    const enhanced = enhancedCt(slices, { perFrameRescale: true });
    const volume = await assembled([enhanced]);
    expect(firstDifference(volume.hu, reference.hu)).to.equal(-1);
  });

  it('assembles a series split over two Enhanced CT instances', async () => {
    const volume = await assembled([enhancedCt(slices.slice(0, 50)), enhancedCt(slices.slice(50))]);
    expect(firstDifference(volume.hu, reference.hu)).to.equal(-1);
    expect(new Set(volume.sources.map((s) => s.sopInstanceUID)).size).to.equal(2);
  });

  it('refuses frames with a gap, naming the frame', async () => {
    const result = await assembleVolume([enhancedCt(slices.filter((_, i) => i !== 30))]);
    expect(result.ok).to.equal(false);
    if (!result.ok) {
      expect(result.error.code).to.equal('inconsistent-geometry');
      expect(result.error.message).to.match(/frame 31 and instance .* frame 30 \(at /);
    }
  });

  describe('compressed with DCMTK', () => {
    let dir: string;
    let cleanup: () => void;
    let source: string;

    before(function () {
      requirePeers(this, 'dcmtk');
      ({ dir, cleanup } = tempDir('enhanced'));
      [source] = writeAll(dir, [enhancedCt(slices, { perFrameRescale: true })]);
    });

    after(() => cleanup?.());

    const cases: Array<{ name: string; tool: string; args: string[]; ts: string }> = [
      { name: 'RLE, one fragment per frame', tool: 'dcmcrle', args: [], ts: '1.2.840.10008.1.2.5' },
      { name: 'JPEG-LS, frames split into 1 kB fragments, with a Basic Offset Table', tool: 'dcmcjpls', args: ['--encode-lossless', '+fs', '1', '+ot'], ts: '1.2.840.10008.1.2.4.80' },
      { name: 'JPEG Lossless SV1, 1 kB fragments and an empty offset table (frames found by their SOI markers)', tool: 'dcmcjpeg', args: ['+e1', '+fs', '1', '-ot'], ts: '1.2.840.10008.1.2.4.70' },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const [compressed] = await convertEach(c.tool, (i, o) => [...c.args, i, o], [source], dir);
        expect(transferSyntaxOf(compressed)).to.equal(c.ts);
        const volume = await assembled([compressed]);
        expect(firstDifference(volume.hu, reference.hu)).to.equal(-1);
      });
    }
  });
});
