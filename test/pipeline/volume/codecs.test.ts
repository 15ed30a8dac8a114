/**
 * Decoding what PACS send. Every lossless encoding of ct-fakephi slices (DCMTK and GDCM) must give
 * back exactly the HU of the uncompressed series; lossy ones stay within their bound and agree with
 * pydicom where pydicom can decode them; broken frames are refused, never turned into an image.
 */
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { dicom } from '../../../anonymizer/index.js';
import { assembleVolume, Codecs, type CtVolume } from '../../../pipeline/volume/index.js';
import { requirePeers } from '../../support/peers.js';
import {
  PLANE,
  TAG,
  convertEach,
  edited,
  enhancedCt,
  fakephiInputs,
  firstDifference,
  int16s,
  newUID,
  numbers,
  pydicomHu,
  rawPixels,
  rewrite,
  setText,
  setUS,
  tempDir,
  transferSyntaxOf,
  writeAll,
  type Input,
} from './support.js';

const CORPUS = new URL('../../fixtures/pydicom-corpus/test_files/', import.meta.url).pathname;
const GDCMCONV = '/usr/bin/gdcmconv';

async function assembled(inputs: Input[], codecs?: Codecs): Promise<CtVolume> {
  const result = await assembleVolume(inputs, codecs ? { codecs } : {});
  if (!result.ok) throw new Error(`assembly failed: ${result.error.code}: ${result.error.message}`);
  return result.volume;
}

/**
 * The reference volume's slices at the given positions, as a volume of those slices alone holds
 * them. Matched by position, not SOPInstanceUID: lossy conversion gives instances new UIDs.
 */
function slicesAt(volume: CtVolume, from: CtVolume): Int16Array {
  const out = new Int16Array(PLANE * from.sources.length);
  from.sources.forEach((source, j) => {
    const k = volume.sources.findIndex((s) => Math.abs(s.position[2] - source.position[2]) < 1e-6);
    if (k < 0) throw new Error(`no reference slice at z = ${source.position[2]}`);
    out.set(volume.hu.subarray(k * PLANE, (k + 1) * PLANE), j * PLANE);
  });
  return out;
}

describe('pipeline/volume: decoding transfer syntaxes', () => {
  let inputs: Input[];
  let reference: CtVolume;
  const codecs = new Codecs();

  before(async () => {
    inputs = fakephiInputs();
    reference = await assembled(inputs);
  });

  describe('uncompressed, in every byte order and VR encoding (DCMTK dcmconv)', () => {
    let dir: string;
    let cleanup: () => void;
    let files: string[];

    before(function () {
      requirePeers(this, 'dcmtk');
      ({ dir, cleanup } = tempDir('native'));
      files = writeAll(dir, inputs.filter((_, i) => i % 16 === 0));
    });
    after(() => cleanup?.());

    for (const [name, flag, ts] of [
      ['Explicit VR Big Endian', '+tb', '1.2.840.10008.1.2.2'],
      ['Implicit VR Little Endian', '+ti', '1.2.840.10008.1.2'],
      ['Deflated Explicit VR Little Endian', '+td', '1.2.840.10008.1.2.1.99'],
    ] as const) {
      it(name, async () => {
        const converted = await convertEach('dcmconv', (i, o) => [flag, i, o], files, dir);
        expect(transferSyntaxOf(converted[0])).to.equal(ts);
        const volume = await assembled(converted);
        expect(firstDifference(volume.hu, slicesAt(reference, volume))).to.equal(-1);
      });
    }
  });

  describe('lossless compression: exactly the uncompressed HU', () => {
    let dir: string;
    let cleanup: () => void;
    let enhanced: string;
    let singles: string[];

    before(function () {
      requirePeers(this, 'dcmtk');
      ({ dir, cleanup } = tempDir('lossless'));
      // The whole series as one Enhanced CT instance: one encoder run per codec covers all 112 slices.
      [enhanced] = writeAll(dir, [enhancedCt(inputs)], 'enhanced');
      // Every eighth slice as single-frame instances: 14 slices, 24 mm apart.
      singles = writeAll(dir, inputs.filter((_, i) => i % 8 === 1));
    });
    after(() => cleanup?.());

    const cases: Array<{ name: string; tool: string; args: string[]; ts: string; gdcm?: boolean }> = [
      { name: 'RLE Lossless (dcmcrle)', tool: 'dcmcrle', args: [], ts: '1.2.840.10008.1.2.5' },
      { name: 'RLE Lossless (gdcmconv)', tool: GDCMCONV, args: ['--rle'], ts: '1.2.840.10008.1.2.5', gdcm: true },
      { name: 'JPEG Lossless SV1 (dcmcjpeg +e1)', tool: 'dcmcjpeg', args: ['--encode-lossless-sv1'], ts: '1.2.840.10008.1.2.4.70' },
      ...[2, 3, 4, 5, 6, 7].map((sv) => ({ name: `JPEG Lossless Process 14, predictor ${sv} (dcmcjpeg +el +sv ${sv})`, tool: 'dcmcjpeg', args: ['--encode-lossless', '+sv', String(sv)], ts: '1.2.840.10008.1.2.4.57' })),
      { name: 'JPEG-LS Lossless (dcmcjpls)', tool: 'dcmcjpls', args: ['--encode-lossless'], ts: '1.2.840.10008.1.2.4.80' },
      { name: 'JPEG-LS Lossless (gdcmconv)', tool: GDCMCONV, args: ['--jpegls'], ts: '1.2.840.10008.1.2.4.80', gdcm: true },
      { name: 'JPEG 2000 Lossless (gdcmconv --j2k)', tool: GDCMCONV, args: ['--j2k'], ts: '1.2.840.10008.1.2.4.90', gdcm: true },
    ];
    for (const c of cases) {
      it(c.name, async function () {
        if (c.gdcm && !existsSync(GDCMCONV)) {
          if (process.env.CI === 'true') throw new Error('missing Debian package libgdcm-tools (gdcmconv)');
          this.skip();
        }
        const [converted] = await convertEach(c.tool, (i, o) => [...c.args, i, o], [enhanced], dir);
        expect(transferSyntaxOf(converted)).to.equal(c.ts);
        const volume = await assembled([converted], codecs);
        expect(volume.dims).to.deep.equal(reference.dims);
        const at = firstDifference(volume.hu, reference.hu);
        expect(at, at < 0 ? '' : `voxel ${at}: ${volume.hu[at]} vs ${reference.hu[at]}`).to.equal(-1);
      });
    }

    it('single-frame instances in three transfer syntaxes, one series', async () => {
      const rle = await convertEach('dcmcrle', (i, o) => [i, o], singles.slice(0, 5), dir);
      const jls = await convertEach('dcmcjpls', (i, o) => ['--encode-lossless', i, o], singles.slice(5, 10), dir);
      const sv1 = await convertEach('dcmcjpeg', (i, o) => ['+e1', i, o], singles.slice(10), dir);
      const volume = await assembled([...jls, ...sv1, ...rle], codecs);
      expect(volume.dims[2]).to.equal(14);
      expect(volume.spacing[2]).to.be.closeTo(24, 1e-6);
      expect(firstDifference(volume.hu, slicesAt(reference, volume))).to.equal(-1);
    });
  });

  describe('lossy compression', () => {
    let dir: string;
    let cleanup: () => void;
    let files: string[];

    before(function () {
      requirePeers(this, 'python3-pydicom');
      if (!existsSync(GDCMCONV)) {
        if (process.env.CI === 'true') throw new Error('missing Debian package libgdcm-tools (gdcmconv)');
        this.skip();
      }
      ({ dir, cleanup } = tempDir('lossy'));
      files = writeAll(dir, inputs.filter((_, i) => i % 16 === 3));
    });
    after(() => cleanup?.());

    it('JPEG-LS near-lossless (gdcmconv, allowed error 2): every voxel within 2 HU', async () => {
      const converted = await convertEach(GDCMCONV, (i, o) => ['--jpegls', '--lossy', '-e', '2', i, o], files, dir);
      expect(transferSyntaxOf(converted[0])).to.equal('1.2.840.10008.1.2.4.81');
      const volume = await assembled(converted, codecs);
      const expected = slicesAt(reference, volume);
      let worst = 0;
      let changed = 0;
      for (let i = 0; i < expected.length; i++) {
        const d = Math.abs(volume.hu[i] - expected[i]);
        worst = Math.max(worst, d);
        if (d) changed++;
      }
      expect(worst).to.be.at.most(2);
      expect(changed, 'a near-lossless encoding that changed nothing would not test the lossy path').to.be.above(0);
    });

    it('JPEG 2000 irreversible (gdcmconv, rate 20): within 1 HU of pydicom’s decode (Pillow/OpenJPEG), close to the original', async () => {
      const converted = await convertEach(GDCMCONV, (i, o) => ['--j2k', '--lossy', '--irreversible', '-r', '20', i, o], files, dir);
      expect(transferSyntaxOf(converted[0])).to.equal('1.2.840.10008.1.2.4.91');
      const volume = await assembled(converted, codecs);
      const pydicom = pydicomHu(writeAll(dir, converted, 'lossy-j2k'));
      let worst = 0;
      for (let i = 0; i < pydicom.hu.length; i++) worst = Math.max(worst, Math.abs(volume.hu[i] - pydicom.hu[i]));
      expect(worst, 'largest difference from pydicom, in HU').to.be.at.most(1);
      const expected = slicesAt(reference, volume);
      let sum = 0;
      for (let i = 0; i < expected.length; i++) sum += (volume.hu[i] - expected[i]) ** 2;
      const rms = Math.sqrt(sum / expected.length);
      expect(rms).to.be.above(0).and.below(100);
    });
  });

  describe('pydicom corpus: 693_J2KI.dcm (lossy JPEG 2000 CT, 512 × 512, BitsStored 14, signed)', () => {
    before(function () {
      requirePeers(this, 'python3-pydicom');
    });

    it('decodes to exactly pydicom’s HU', async () => {
      const { readFileSync } = await import('node:fs');
      const original: Input = { bytes: new Uint8Array(readFileSync(CORPUS + '693_J2KI.dcm')) };
      // A second slice 1 mm above (same pixels) makes it a two-slice volume.
      const second = edited(original, (d) => {
        const p = numbers(d, TAG.ImagePositionPatient);
        setText(d, TAG.SOPInstanceUID, 'UI', newUID());
        setText(d, TAG.ImagePositionPatient, 'DS', `${p[0]}\\${p[1]}\\${p[2] + 1}`);
      });
      const volume = await assembled([second, original], codecs);
      expect(volume.dims).to.deep.equal([512, 512, 2]);
      const pydicom = pydicomHu([CORPUS + '693_J2KI.dcm']);
      const first = volume.hu.subarray(0, 512 * 512);
      const at = firstDifference(first, pydicom.hu);
      expect(at, at < 0 ? '' : `voxel ${at}: ${first[at]} vs pydicom ${pydicom.hu[at]}`).to.equal(-1);
      expect(firstDifference(volume.hu.subarray(512 * 512), first)).to.equal(-1);
    });
  });

  describe('stored values: BitsStored masks, HighBit, signedness, clamping', () => {
    const original = (): Int16Array => int16s(rawPixels(inputs[50]));
    const twoSlices = (edit: (d: dicom.Dataset, pixels: Int16Array) => Uint8Array): Input[] => {
      const pair = [inputs[50], inputs[51]];
      return pair.map((input) =>
        edited(input, (d) => {
          const bytes = edit(d, int16s(rawPixels(input)));
          const at = d.findIndex((e) => e.tag === TAG.PixelData);
          d[at] = { ...d[at], value: bytes };
        }),
      );
    };
    const le16 = (values: ArrayLike<number>): Uint8Array => {
      const out = new Uint8Array(values.length * 2);
      for (let i = 0; i < values.length; i++) {
        out[2 * i] = values[i] & 0xff;
        out[2 * i + 1] = (values[i] >> 8) & 0xff;
      }
      return out;
    };
    const sliceOf = async (slices: Input[]): Promise<Int16Array> => {
      const volume = await assembled(slices);
      const uid = dicom.stringOf(dicom.find(dicom.readPart10(inputs[50].bytes).dataset, TAG.SOPInstanceUID));
      const k = volume.sources.findIndex((s) => s.sopInstanceUID === uid);
      return volume.hu.slice(k * PLANE, (k + 1) * PLANE);
    };

    it('12 bits stored, unsigned, with garbage in the 4 bits above: the garbage is masked off', async () => {
      const slices = twoSlices((d, px) => {
        setUS(d, TAG.BitsStored, 12);
        setUS(d, TAG.HighBit, 11);
        setUS(d, TAG.PixelRepresentation, 0);
        return le16(Array.from(px, (v) => (Math.min(4095, Math.max(0, v)) | 0xa000)));
      });
      const hu = await sliceOf(slices);
      const expected = Array.from(original(), (v) => Math.min(4095, Math.max(0, v)) - 1024);
      expect(firstDifference(hu, expected)).to.equal(-1);
    });

    it('12 bits stored, signed, garbage above: sign-extended from bit 11', async () => {
      const slices = twoSlices((d, px) => {
        setUS(d, TAG.BitsStored, 12);
        setUS(d, TAG.HighBit, 11);
        setText(d, TAG.RescaleIntercept, 'DS', '0');
        return le16(Array.from(px, (v) => ((Math.min(2047, Math.max(-2048, v - 1024)) & 0x0fff) | 0x5000)));
      });
      const hu = await sliceOf(slices);
      expect(firstDifference(hu, Array.from(original(), (v) => Math.min(2047, Math.max(-2048, v - 1024))))).to.equal(-1);
    });

    it('12 bits stored at HighBit 15: values in the upper bits', async () => {
      const slices = twoSlices((d, px) => {
        setUS(d, TAG.BitsStored, 12);
        setUS(d, TAG.HighBit, 15);
        setUS(d, TAG.PixelRepresentation, 0);
        return le16(Array.from(px, (v) => (Math.min(4095, Math.max(0, v)) << 4) | 0x9));
      });
      expect(firstDifference(await sliceOf(slices), Array.from(original(), (v) => Math.min(4095, Math.max(0, v)) - 1024))).to.equal(-1);
    });

    it('a slope that leaves int16 is clamped, and fractional results are rounded', async () => {
      const steep = twoSlices((d, px) => {
        setText(d, TAG.RescaleSlope, 'DS', '100');
        return le16(px);
      });
      expect(firstDifference(await sliceOf(steep), Array.from(original(), (v) => Math.max(-32768, Math.min(32767, v * 100 - 1024))))).to.equal(-1);
      const half = twoSlices((d, px) => {
        setText(d, TAG.RescaleSlope, 'DS', '0.5');
        setText(d, TAG.RescaleIntercept, 'DS', '-1024.25');
        return le16(px);
      });
      expect(firstDifference(await sliceOf(half), Array.from(original(), (v) => Math.round(v * 0.5 - 1024.25)))).to.equal(-1);
    });
  });

  describe('broken or unsupported compressed frames are refused, not decoded into garbage', () => {
    let dir: string;
    let cleanup: () => void;
    let files: string[];

    before(function () {
      requirePeers(this, 'dcmtk');
      ({ dir, cleanup } = tempDir('broken'));
      files = writeAll(dir, inputs.filter((_, i) => i % 40 === 0));
    });
    after(() => cleanup?.());

    /** The instance with its single fragment cut to `keep` of its length. */
    function truncated(input: Input, keep: number): Input {
      const parsed = dicom.readPart10(input.bytes);
      const d = parsed.dataset.filter((e) => e.tag !== TAG.PixelData);
      const frags = dicom.find(parsed.dataset, TAG.PixelData)!.fragments!;
      // Items: Basic Offset Table, one fragment, the delimiter.
      const botLength = frags[4] | (frags[5] << 8) | (frags[6] << 16) | (frags[7] << 24);
      const at = 8 + botLength;
      const length = frags[at + 4] | (frags[at + 5] << 8) | (frags[at + 6] << 16) | (frags[at + 7] << 24);
      const cut = Math.floor((length * keep) / 2) * 2;
      const out = new Uint8Array(8 + 8 + cut + 8);
      out.set([0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0], 0);
      out.set([0xfe, 0xff, 0x00, 0xe0, cut & 0xff, (cut >> 8) & 0xff, (cut >> 16) & 0xff, 0], 8);
      out.set(frags.subarray(at + 8, at + 8 + cut), 16);
      out.set([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0], 16 + cut);
      d.push({ tag: TAG.PixelData, vr: 'OB', fragments: out });
      return { bytes: rewrite(d, parsed.transferSyntax.uid) };
    }

    it('JPEG-LS: a frame cut to 90% is refused at once (CharLS alone spends tens of seconds on it)', async () => {
      const converted = await convertEach('dcmcjpls', (i, o) => ['--encode-lossless', i, o], files, dir);
      converted[1] = truncated(converted[1], 0.9);
      const started = performance.now();
      const result = await assembleVolume(converted, { codecs });
      expect(performance.now() - started).to.be.below(2000);
      expect(result.ok).to.equal(false);
      if (!result.ok) expect(result.error.message).to.match(/does not end with an EOI marker/);
    });

    it('JPEG Lossless with a point transform (dcmcjpeg +pt 2) is refused, not decoded to wrong values', async () => {
      const converted = await convertEach('dcmcjpeg', (i, o) => ['--encode-lossless', '+pt', '2', i, o], files.slice(0, 2), dir);
      const result = await assembleVolume(converted, { codecs });
      expect(result.ok).to.equal(false);
      if (!result.ok) {
        expect(result.error.code).to.equal('decode-failed');
        expect(result.error.message).to.match(/point transform 2 is not supported/);
      }
    });

    for (const [name, tool, args] of [
      ['RLE', 'dcmcrle', []],
      ['JPEG Lossless', 'dcmcjpeg', ['+e1']],
      ['JPEG-LS', 'dcmcjpls', ['--encode-lossless']],
      ['JPEG 2000', GDCMCONV, ['--j2k']],
    ] as const) {
      it(`${name}: a frame cut to 60%`, async function () {
        if (tool === GDCMCONV && !existsSync(GDCMCONV)) this.skip();
        const converted = await convertEach(tool, (i, o) => [...args, i, o], files, dir);
        converted[1] = truncated(converted[1], 0.6);
        const result = await assembleVolume(converted, { codecs });
        expect(result.ok).to.equal(false);
        if (!result.ok) {
          expect(result.error.code).to.equal('decode-failed');
          expect(result.error.message).to.match(/^frame 1 of instance .* could not be decoded as/);
        }
      });
    }
  });
});
