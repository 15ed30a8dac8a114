/** Choosing the series to process from a whole study, by the default rule and by others. */
import { expect } from 'chai';
import { CT_FAKEPHI_UIDS } from '../../support/fakephi.js';
import { selectSeries } from '../../../pipeline/volume/index.js';
import { TAG, doseScreen, edited, fakephiInputs, newUID, numbers, setText, type Input } from './support.js';

/** A copy of some slices as another series (new series and instance UIDs). */
function asSeries(inputs: Input[], edit: (ds: Parameters<Parameters<typeof edited>[1]>[0]) => void = () => {}): { uid: string; inputs: Input[] } {
  const uid = newUID();
  return {
    uid,
    inputs: inputs.map((input) =>
      edited(input, (d) => {
        setText(d, TAG.SeriesInstanceUID, 'UI', uid);
        setText(d, TAG.SOPInstanceUID, 'UI', newUID());
        edit(d);
      }),
    ),
  };
}

describe('pipeline/volume: selectSeries', () => {
  let ct: Input[];

  before(() => {
    ct = fakephiInputs();
  });

  it('chooses the axial CT series with the most slices, and keeps the caller’s objects', () => {
    const thin = asSeries(ct.filter((_, i) => i % 2 === 0));
    const mr = asSeries(ct, (d) => setText(d, TAG.Modality, 'CS', 'MR'));
    const sagittal = asSeries([...ct, ...ct.slice(0, 20)], (d) => setText(d, TAG.ImageOrientationPatient, 'DS', '0\\1\\0\\0\\0\\-1'));
    const study = [...thin.inputs, ...mr.inputs, ...ct, ...sagittal.inputs].map((x, i) => ({ ...x, id: i }));
    const result = selectSeries(study);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.series.seriesInstanceUID).to.equal(CT_FAKEPHI_UIDS.seriesInstanceUID);
    expect(result.series.slices).to.equal(112);
    expect(result.series.instances).to.have.length(112);
    expect(result.series.instances.every((x) => x.id >= thin.inputs.length + mr.inputs.length && x.id < thin.inputs.length + mr.inputs.length + 112)).to.equal(true);
    const considered = new Map(result.series.considered.map((s) => [s.seriesInstanceUID, s]));
    expect(considered.get(thin.uid)).to.include({ modality: 'CT', slices: 56 });
    expect(considered.get(mr.uid)).to.include({ modality: 'MR', slices: 112 });
    expect(considered.get(sagittal.uid)).to.include({ modality: 'CT', slices: 132, axialDegrees: 90 });
  });

  it('counts a slightly oblique series (8° from axial) as axial, a 15° one not', () => {
    const oblique = (deg: number): Input[] => {
      const t = (deg * Math.PI) / 180;
      return asSeries(ct, (d) => setText(d, TAG.ImageOrientationPatient, 'DS', `1\\0\\0\\0\\${Math.cos(t).toFixed(6)}\\${Math.sin(t).toFixed(6)}`)).inputs;
    };
    const eight = selectSeries(oblique(8));
    expect(eight.ok).to.equal(true);
    const fifteen = selectSeries(oblique(15));
    expect(fifteen.ok).to.equal(false);
    if (!fifteen.ok) {
      expect(fifteen.error.code).to.equal('not-axial');
      expect(fifteen.error.message).to.match(/15\.0° from axial; at most 10° is accepted/);
    }
  });

  it('refuses a study without CT, naming what it found', () => {
    const mr = asSeries(ct.slice(0, 30), (d) => setText(d, TAG.Modality, 'CS', 'MR')).inputs;
    const result = selectSeries(mr);
    expect(result.ok).to.equal(false);
    if (!result.ok) {
      expect(result.error.code).to.equal('not-ct');
      expect(result.error.message).to.equal('no CT series in the study: found MR');
    }
  });

  it('refuses a series below the minimum slice count', () => {
    const result = selectSeries(ct.slice(0, 19));
    expect(result.ok).to.equal(false);
    if (!result.ok) {
      expect(result.error.code).to.equal('too-few-slices');
      expect(result.error.message).to.match(/has 19 slices; at least 20 are needed/);
    }
    expect(selectSeries(ct.slice(0, 19), { modality: 'CT', minSlices: 10 }).ok).to.equal(true);
  });

  it('leaves localizers out of the count and the chosen instances', () => {
    const scouts = [0, 1].map(() =>
      edited(ct[0], (d) => {
        setText(d, TAG.SOPInstanceUID, 'UI', newUID());
        setText(d, TAG.ImageType, 'CS', 'ORIGINAL\\PRIMARY\\LOCALIZER');
        setText(d, TAG.ImageOrientationPatient, 'DS', '1\\0\\0\\0\\0\\-1');
      }),
    );
    const result = selectSeries([...scouts, ...ct]);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.series.slices).to.equal(112);
    expect(result.series.localizers).to.equal(2);
    expect(result.series.instances).to.not.include(scouts[0]);
  });

  it('leaves a Secondary Capture dose screen out of the series, its count and its orientation, and counts it', () => {
    // First in the study: the series' orientation was read from it, which has none (not axial).
    const screen = doseScreen(ct[0]);
    const result = selectSeries([screen, ...ct]);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.series.slices).to.equal(112);
    expect(result.series.instances).to.have.length(112);
    expect(result.series.instances).to.not.include(screen);
    expect(result.series.notCtImages).to.equal(1);
  });

  it('ranks every axial CT series with enough slices as a candidate, most slices first, so the next can be tried', () => {
    const thin = asSeries(ct.filter((_, i) => i % 2 === 0));
    const few = asSeries(ct.slice(0, 10));
    const sagittal = asSeries([...ct, ...ct.slice(0, 20)], (d) => setText(d, TAG.ImageOrientationPatient, 'DS', '0\\1\\0\\0\\0\\-1'));
    const tilted = asSeries(ct, (d) => {
      const p = numbers(d, TAG.ImagePositionPatient);
      setText(d, TAG.ImagePositionPatient, 'DS', [p[0], p[1] + 0.27 * p[2], p[2]].map((x) => x.toFixed(6)).join('\\'));
    });
    const result = selectSeries([...thin.inputs, ...few.inputs, ...sagittal.inputs, ...tilted.inputs]);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.series.seriesInstanceUID).to.equal(tilted.uid);
    expect(result.series.candidates.map((c) => [c.seriesInstanceUID, c.slices, c.instances.length])).to.deep.equal([
      [tilted.uid, 112, 112],
      [thin.uid, 56, 56],
    ]);
    expect(result.series.candidates[1].instances[0]).to.equal(thin.inputs[0]);
  });

  it('skips unreadable inputs and reports them, without failing the study', () => {
    const result = selectSeries([{ bytes: new Uint8Array(10) }, ...ct]);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.series.skipped).to.have.length(1);
    expect(result.series.skipped[0].index).to.equal(0);
    expect(result.series.skipped[0].reason).to.match(/^not-part10/);
  });

  it('says so when nothing is readable', () => {
    const result = selectSeries([{ bytes: new Uint8Array(10) }]);
    expect(result.ok).to.equal(false);
    if (!result.ok) expect(result.error.code).to.equal('no-instances');
  });

  it('counts Enhanced CT frames as slices', () => {
    const enhanced = edited(ct[0], (d) => {
      setText(d, TAG.NumberOfFrames, 'IS', '40');
      setText(d, TAG.SOPClassUID, 'UI', '1.2.840.10008.5.1.4.1.1.2.1');
      d.push({ tag: TAG.SharedFunctionalGroupsSequence, vr: 'SQ', items: [[{ tag: TAG.PlaneOrientationSequence, vr: 'SQ', items: [[d.find((e) => e.tag === TAG.ImageOrientationPatient)!]] }]] });
    });
    const result = selectSeries([enhanced]);
    if (!result.ok) throw new Error(result.error.message);
    expect(result.series.slices).to.equal(40);
  });
});
