/**
 * Series that must be refused, each built from copies of ct-fakephi edited in memory: the error
 * names the reason (code), the attribute and how far off it is.
 */
import { expect } from 'chai';
import { dicom } from '../../../anonymizer/index.js';
import { assembleVolume, type VolumeError } from '../../../pipeline/volume/index.js';
import { TAG, doseScreen, edited, fakephiInputs, newUID, numbers, remove, rewrite, setText, setUS, type Input } from './support.js';

async function refusal(inputs: Input[]): Promise<VolumeError> {
  const result = await assembleVolume(inputs);
  if (result.ok) throw new Error('assembly succeeded where it must fail');
  return result.error;
}

const z = (input: Input): number => numbers(dicom.readPart10(input.bytes).dataset, TAG.ImagePositionPatient)[2];
const ds = (v: number[]): string => v.map((x) => String(Number(x.toFixed(6)))).join('\\');

describe('pipeline/volume: refusing what a regular grid cannot hold', () => {
  let inputs: Input[];

  before(() => {
    inputs = fakephiInputs();
  });

  it('gantry tilt: slices tilted 5° about the row axis while the table steps along z', async () => {
    const t = (5 * Math.PI) / 180;
    const tilted = inputs.map((input) => edited(input, (d) => setText(d, TAG.ImageOrientationPatient, 'DS', ds([1, 0, 0, 0, Math.cos(t), Math.sin(t)]))));
    const error = await refusal(tilted);
    expect(error.code).to.equal('gantry-tilt');
    expect(error.deviation).to.be.closeTo(5, 0.01);
    expect(error.message).to.match(/5° off their normal/);
  });

  it('gantry tilt: positions drift sideways (0.3 mm in y per 3 mm slice) under an axial orientation', async () => {
    const drifting = inputs.map((input) =>
      edited(input, (d) => {
        const p = numbers(d, TAG.ImagePositionPatient);
        setText(d, TAG.ImagePositionPatient, 'DS', ds([p[0], p[1] + 0.1 * (p[2] - 94.301758), p[2]]));
      }),
    );
    const error = await refusal(drifting);
    expect(error.code).to.equal('gantry-tilt');
    expect(error.deviation).to.be.closeTo((Math.atan(0.1) * 180) / Math.PI, 0.01);
  });

  it('a missing slice: the gap, where it is, and how many slices are missing', async () => {
    const gapped = inputs.filter((_, i) => i !== 60);
    const error = await refusal(gapped);
    expect(error.code).to.equal('inconsistent-geometry');
    expect(error.attribute).to.equal('ImagePositionPatient');
    expect(error.deviation).to.be.closeTo(3, 1e-3);
    expect(error.message).to.match(/6 mm between .* where the median gap is 3 mm/);
    const removed = z(inputs[60]);
    expect(error.message).to.contain(`(at ${(removed - 3).toFixed(3)} and ${(removed + 3).toFixed(3)} mm along the normal)`);
    expect(error.message).to.match(/about 1 slice missing/);
  });

  it('uneven spacing: the upper half of the stack 3.5 mm apart', async () => {
    const stretched = inputs.map((input) =>
      edited(input, (d) => {
        const p = numbers(d, TAG.ImagePositionPatient);
        const k = Math.round((p[2] - 94.301758) / 3);
        const zz = k < 70 ? 94.301758 + 3 * k : 94.301758 + 3 * 70 + 3.5 * (k - 70);
        setText(d, TAG.ImagePositionPatient, 'DS', ds([p[0], p[1], zz]));
      }),
    );
    const error = await refusal(stretched);
    expect(error.code).to.equal('inconsistent-geometry');
    expect(error.attribute).to.equal('ImagePositionPatient');
    expect(error.deviation).to.be.closeTo(0.5, 1e-3);
    expect(error.message).to.match(/slice spacing is not uniform: 3.5 mm/);
  });

  it('small jitter in positions (±0.004 mm) is accepted', async () => {
    const jittered = inputs.map((input, i) =>
      edited(input, (d) => {
        const p = numbers(d, TAG.ImagePositionPatient);
        setText(d, TAG.ImagePositionPatient, 'DS', ds([p[0], p[1], p[2] + (i % 2 ? 0.004 : -0.004)]));
      }),
    );
    const result = await assembleVolume(jittered);
    expect(result.ok, result.ok ? '' : result.error.message).to.equal(true);
  });

  it('mixed orientation: one slice sagittal', async () => {
    const mixed = [...inputs];
    mixed[30] = edited(mixed[30], (d) => setText(d, TAG.ImageOrientationPatient, 'DS', '0\\1\\0\\0\\0\\-1'));
    const error = await refusal(mixed);
    expect(error.code).to.equal('inconsistent-geometry');
    expect(error.attribute).to.equal('ImageOrientationPatient');
    expect(error.deviation).to.be.closeTo(90, 1e-6);
    expect(error.sopInstanceUID).to.equal(dicom.stringOf(dicom.find(dicom.readPart10(inputs[30].bytes).dataset, TAG.SOPInstanceUID)));
  });

  it('mixed orientation: one slice rotated by 1° in plane', async () => {
    const mixed = [...inputs];
    const a = Math.PI / 180;
    mixed[30] = edited(mixed[30], (d) => setText(d, TAG.ImageOrientationPatient, 'DS', ds([Math.cos(a), Math.sin(a), 0, -Math.sin(a), Math.cos(a), 0])));
    const error = await refusal(mixed);
    expect(error.code).to.equal('inconsistent-geometry');
    expect(error.attribute).to.equal('ImageOrientationPatient');
    expect(error.deviation).to.be.closeTo(1, 1e-4);
  });

  it('pixel spacing that differs on one slice', async () => {
    const mixed = [...inputs];
    mixed[10] = edited(mixed[10], (d) => setText(d, TAG.PixelSpacing, 'DS', '3\\3.1'));
    const error = await refusal(mixed);
    expect(error.code).to.equal('inconsistent-geometry');
    expect(error.attribute).to.equal('PixelSpacing');
    expect(error.deviation).to.be.closeTo(0.1, 1e-9);
  });

  it('a matrix that differs on one slice', async () => {
    const mixed = [...inputs];
    mixed[10] = edited(mixed[10], (d) => setUS(d, TAG.Rows, 100));
    const error = await refusal(mixed);
    expect(error.code).to.equal('inconsistent-geometry');
    expect(error.attribute).to.equal('Rows');
    expect(error.deviation).to.equal(1);
  });

  it('two different instances at the same position', async () => {
    const copy = edited(inputs[20], (d) => setText(d, TAG.SOPInstanceUID, 'UI', newUID()));
    const error = await refusal([...inputs, copy]);
    expect(error.code).to.equal('inconsistent-geometry');
    expect(error.message).to.match(/same position .*duplicate slices/);
  });

  it('two frames of reference', async () => {
    const mixed = [...inputs];
    mixed[5] = edited(mixed[5], (d) => setText(d, TAG.FrameOfReferenceUID, 'UI', newUID()));
    const error = await refusal(mixed);
    expect(error.code).to.equal('inconsistent-geometry');
    expect(error.attribute).to.equal('FrameOfReferenceUID');
  });

  it('not CT', async () => {
    const mr = inputs.map((input) => edited(input, (d) => setText(d, TAG.Modality, 'CS', 'MR')));
    const error = await refusal(mr);
    expect(error.code).to.equal('not-ct');
    expect(error.message).to.match(/Modality MR, not CT/);
  });

  it('a single slice', async () => {
    const error = await refusal([inputs[0]]);
    expect(error.code).to.equal('too-few-slices');
  });

  it('two series given as one', async () => {
    const mixed = [...inputs];
    mixed[3] = edited(mixed[3], (d) => setText(d, TAG.SeriesInstanceUID, 'UI', newUID()));
    expect((await refusal(mixed)).code).to.equal('mixed-series');
  });

  it('a slice without ImagePositionPatient', async () => {
    const mixed = [...inputs];
    mixed[7] = edited(mixed[7], (d) => remove(d, TAG.ImagePositionPatient));
    const error = await refusal(mixed);
    expect(error.code).to.equal('missing-attribute');
    expect(error.attribute).to.equal('ImagePositionPatient');
  });

  it('a slice without pixel data', async () => {
    const mixed = [...inputs];
    mixed[7] = edited(mixed[7], (d) => remove(d, TAG.PixelData));
    const error = await refusal(mixed);
    expect(error.code).to.equal('missing-pixel-data');
  });

  it('a slice with truncated pixel data', async () => {
    const mixed = [...inputs];
    mixed[7] = edited(mixed[7], (d) => {
      const at = d.findIndex((e) => e.tag === TAG.PixelData);
      d[at] = { ...d[at], value: d[at].value!.subarray(0, 20000) };
    });
    const error = await refusal(mixed);
    expect(error.code).to.equal('missing-pixel-data');
    expect(error.message).to.match(/20000 bytes/);
  });

  it('an encapsulated transfer syntax Limen has no decoder for (JPEG Baseline)', async () => {
    const mixed = [...inputs];
    const parsed = dicom.readPart10(inputs[7].bytes);
    const d = parsed.dataset.filter((e) => e.tag !== TAG.PixelData);
    // An empty Basic Offset Table, one fragment that starts like a JPEG, the sequence delimiter.
    const fragments = new Uint8Array([0xfe, 0xff, 0x00, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0x00, 0xe0, 4, 0, 0, 0, 0xff, 0xd8, 0xff, 0xd9, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
    d.push({ tag: TAG.PixelData, vr: 'OB', fragments });
    mixed[7] = { bytes: rewrite(d, '1.2.840.10008.1.2.4.50') };
    const error = await refusal(mixed);
    expect(error.code).to.equal('unsupported-transfer-syntax');
    expect(error.message).to.match(/JPEG Baseline \(Process 1\) \(1\.2\.840\.10008\.1\.2\.4\.50\)/);
  });

  it('bytes that are not DICOM', async () => {
    const error = await refusal([...inputs.slice(0, 5), { bytes: new Uint8Array(300) }]);
    expect(error.code).to.equal('unreadable-instance');
    expect(error.message).to.match(/instance #6/);
  });

  it('keeps localizers out of the volume', async () => {
    const scout = edited(inputs[0], (d) => {
      setText(d, TAG.SOPInstanceUID, 'UI', newUID());
      setText(d, TAG.ImageType, 'CS', 'ORIGINAL\\PRIMARY\\LOCALIZER');
      setText(d, TAG.ImageOrientationPatient, 'DS', '1\\0\\0\\0\\0\\-1');
    });
    const result = await assembleVolume([scout, ...inputs]);
    expect(result.ok, result.ok ? '' : result.error.message).to.equal(true);
    if (result.ok) expect(result.volume.dims[2]).to.equal(112);
  });

  it('leaves a Secondary Capture dose screen in the series out of the volume instead of failing it', async () => {
    const result = await assembleVolume([doseScreen(inputs[0]), ...inputs]);
    expect(result.ok, result.ok ? '' : result.error.message).to.equal(true);
    if (result.ok) {
      expect(result.volume.dims[2]).to.equal(112);
      expect(new Set(result.volume.sources.map((s) => s.sopClassUID))).to.deep.equal(new Set(['1.2.840.10008.5.1.4.1.1.2']));
    }
  });

  it('uses the position along the normal, so a series sorted by descending z in the files still comes out ascending', () => {
    expect(z(inputs[0])).to.be.greaterThan(z(inputs[111]));
  });
});
