import { expect } from 'chai';
import { dicomLabToSrgb, srgbToDicomLab } from '../../../pipeline/seg/index.js';

describe('pipeline/seg RecommendedDisplayCIELabValue', () => {
  // RGB from dcmqi's doc-examples/seg-example_partial_overlaps.json, CIELab as dcmqi wrote them in
  // segmentations/partial_overlaps.dcm (test/fixtures/seg-references/dcmqi).
  const dcmqi: Array<[string, [number, number, number], [number, number, number]]> = [
    ['GREEN', [128, 174, 128], [43803, 26565, 37722]],
    ['ORANGE', [216, 101, 79], [37064, 44082, 41620]],
    ['PURPLE', [183, 156, 220], [45062, 38660, 25486]],
    ['LIGHT_BLUE', [140, 224, 228], [55193, 26619, 30325]],
    ['DARK_BLUE', [0, 151, 206], [38399, 29410, 23264]],
  ];

  for (const [name, rgb, lab] of dcmqi) {
    it(`converts ${name} as dcmqi does (within its float rounding)`, () => {
      const got = srgbToDicomLab(rgb);
      got.forEach((v, i) => expect(Math.abs(v - lab[i]), `component ${i}: ${v} vs ${lab[i]}`).to.be.at.most(8));
    });
  }

  it('maps white and black to the ends of L* with neutral a*, b*', () => {
    expect(srgbToDicomLab([255, 255, 255])).to.deep.equal([65535, 32896, 32896]);
    expect(srgbToDicomLab([0, 0, 0])).to.deep.equal([0, 32896, 32896]);
  });

  it('converts back to the same sRGB', () => {
    for (const [, rgb] of dcmqi) expect(dicomLabToSrgb(srgbToDicomLab(rgb))).to.deep.equal(rgb);
  });
});
