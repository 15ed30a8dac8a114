/**
 * The rescale that turns stored values into Hounsfield units: required, and required to be HU.
 * Stored values taken for HU (slope 1, intercept 0 assumed) or uncalibrated values (Rescale Type US,
 * as cone-beam CT writes) segment silently wrong, so both are refused with the attribute named.
 */
import { expect } from 'chai';
import { dicom } from '../../../anonymizer/index.js';
import { assembleVolume, type VolumeError } from '../../../pipeline/volume/index.js';
import { TAG, edited, enhancedCt, fakephiInputs, remove, setText, type Dataset, type Input } from './support.js';

async function refusal(inputs: Input[]): Promise<VolumeError> {
  const result = await assembleVolume(inputs);
  if (result.ok) throw new Error('assembly succeeded where it must fail');
  return result.error;
}

/** Replaces the Shared Functional Groups' only item by `edit`'s copy of it. */
function editShared(ds: Dataset, edit: (item: Dataset) => Dataset): void {
  const at = ds.findIndex((e) => e.tag === TAG.SharedFunctionalGroupsSequence);
  ds[at] = { ...ds[at], items: [edit([...ds[at].items![0]])] };
}

/** Replaces one Per-frame Functional Groups item by `edit`'s copy of it. */
function editPerFrame(ds: Dataset, frameIndex: number, edit: (item: Dataset) => Dataset): void {
  const at = ds.findIndex((e) => e.tag === TAG.PerFrameFunctionalGroupsSequence);
  const items = [...ds[at].items!];
  items[frameIndex] = edit([...items[frameIndex]]);
  ds[at] = { ...ds[at], items };
}

const withoutRescale = (item: Dataset): Dataset => item.filter((e) => e.tag !== TAG.PixelValueTransformationSequence);

describe('pipeline/volume: Rescale Slope, Intercept and Type', () => {
  let inputs: Input[];

  before(() => {
    inputs = fakephiInputs();
  });

  it('refuses a CT without Rescale Slope and Intercept (Type 1 in the CT Image Module) instead of taking stored values for HU', async () => {
    const bare = inputs.map((input) =>
      edited(input, (d) => {
        remove(d, TAG.RescaleIntercept);
        remove(d, TAG.RescaleSlope);
      }),
    );
    const error = await refusal(bare);
    expect(error.code).to.equal('missing-attribute');
    expect(error.attribute).to.equal('RescaleIntercept');
    expect(error.message).to.match(/^RescaleIntercept is absent or malformed in instance /);
  });

  it('refuses one slice without Rescale Slope, naming it and the instance', async () => {
    const mixed = [...inputs];
    mixed[40] = edited(mixed[40], (d) => remove(d, TAG.RescaleSlope));
    const error = await refusal(mixed);
    expect(error.code).to.equal('missing-attribute');
    expect(error.attribute).to.equal('RescaleSlope');
    expect(error.sopInstanceUID).to.equal(dicom.stringOf(dicom.find(dicom.readPart10(mixed[40].bytes).dataset, TAG.SOPInstanceUID)));
  });

  it('refuses Rescale Type US (unspecified), naming the value', async () => {
    const us = inputs.map((input) => edited(input, (d) => setText(d, TAG.RescaleType, 'LO', 'US')));
    const error = await refusal(us);
    expect(error.code).to.equal('not-hounsfield');
    expect(error.attribute).to.equal('RescaleType');
    expect(error.message).to.match(/RescaleType is "US" in instance .*, not HU/);
  });

  it('takes an absent Rescale Type as HU, as the CT Image IOD means it', async () => {
    const untyped = inputs.map((input) => edited(input, (d) => remove(d, TAG.RescaleType)));
    const result = await assembleVolume(untyped);
    expect(result.ok, result.ok ? '' : result.error.message).to.equal(true);
  });

  describe('Enhanced CT: the Pixel Value Transformation Sequence, shared or per frame', () => {
    it('refuses an instance whose functional groups carry no rescale', async () => {
      const enhanced = edited(enhancedCt(inputs), (d) => editShared(d, withoutRescale));
      const error = await refusal([enhanced]);
      expect(error.code).to.equal('missing-attribute');
      expect(error.attribute).to.equal('RescaleIntercept');
      expect(error.message).to.match(/PixelValueTransformationSequence, shared or per frame/);
    });

    it('refuses a frame whose own item lacks it, naming the frame', async () => {
      const enhanced = edited(enhancedCt(inputs, { perFrameRescale: true }), (d) => editPerFrame(d, 6, withoutRescale));
      const error = await refusal([enhanced]);
      expect(error.code).to.equal('missing-attribute');
      expect(error.message).to.match(/\(frame 7\)$/);
    });

    it('refuses a shared Rescale Type US', async () => {
      const enhanced = edited(enhancedCt(inputs), (d) =>
        editShared(d, (item) => {
          const at = item.findIndex((e) => e.tag === TAG.PixelValueTransformationSequence);
          const transform = item[at].items![0].filter((e) => e.tag !== TAG.RescaleType);
          transform.push(dicom.textElement(TAG.RescaleType, 'LO', 'US'));
          item[at] = { ...item[at], items: [transform] };
          return item;
        }),
      );
      const error = await refusal([enhanced]);
      expect(error.code).to.equal('not-hounsfield');
      expect(error.message).to.match(/"US"/);
    });
  });
});
