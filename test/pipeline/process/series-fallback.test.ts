/**
 * A study whose largest axial series cannot be assembled (a tilted gantry, a missing slice) is
 * processed with its next usable one, and report.json says which series were refused and why; a
 * study with none usable fails naming every series tried. The real pipeline, on series built from
 * ct-fakephi in memory.
 */
import { expect } from 'chai';
import { join } from 'node:path';
import { PipelineError } from '../../../pipeline/process/errors.js';
import { shippedModelsDir } from '../../../pipeline/process/model-dirs.js';
import { runPipelineInWorker } from '../../../pipeline/process/run-in-worker.js';
import { runPipeline } from '../../../pipeline/process/run-pipeline.js';
import { readSegmentation } from '../../../pipeline/seg/index.js';
import { TAG, doseScreen, edited, fakephiInputs, newUID, numbers, setText, type Dataset, type Input } from '../volume/support.js';

const MODEL_DIR = join(shippedModelsDir(), 'default');

/** Copies of `inputs` as a series of their own (new series and instance UIDs), edited by `edit`. */
function asSeries(inputs: Input[], edit: (ds: Dataset) => void = () => {}): { uid: string; inputs: Input[] } {
  const uid = newUID();
  const copies = inputs.map((input) =>
    edited(input, (d) => {
      setText(d, TAG.SeriesInstanceUID, 'UI', uid);
      setText(d, TAG.SOPInstanceUID, 'UI', newUID());
      edit(d);
    }),
  );
  return { uid, inputs: copies };
}

/** Positions drifting 0.27 mm in y per mm in z (about 15°) under an axial orientation: a tilted gantry. */
const tilt = (d: Dataset): void => {
  const p = numbers(d, TAG.ImagePositionPatient);
  setText(d, TAG.ImagePositionPatient, 'DS', [p[0], p[1] + 0.27 * p[2], p[2]].map((x) => x.toFixed(6)).join('\\'));
};

async function failure(run: Promise<unknown>): Promise<PipelineError> {
  const err = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'the run succeeded where it must fail').to.be.instanceOf(PipelineError);
  return err as PipelineError;
}

describe('pipeline/process: the largest axial series refused, another one used', function () {
  this.timeout(180_000);
  let ct: Input[];

  before(() => {
    ct = fakephiInputs();
  });

  it('processes a study whose largest series has a gantry tilt with its usable thinner one (a dose screen in it left out), reporting the refused series', async () => {
    const tilted = asSeries(ct, tilt);
    const thin = asSeries(ct.filter((_, i) => i % 2 === 0));
    const screen = doseScreen(thin.inputs[0]);
    const out = await runPipeline({ instances: [...tilted.inputs, screen, ...thin.inputs], modelDir: MODEL_DIR, newUID });

    expect(out.report.series).to.include({ seriesInstanceUID: thin.uid, slices: 56 });
    expect(out.report.series.leftOut).to.deep.equal({ localizers: 0, notCtImages: 1 });
    expect(out.report.refusedSeries).to.have.length(1);
    expect(out.report.refusedSeries[0]).to.include({ seriesInstanceUID: tilted.uid, slices: 112, code: 'gantry-tilt' });
    expect(out.report.refusedSeries[0].reason).to.match(/off their normal/);
    expect(readSegmentation(out.seg).referencedSeries[0].seriesInstanceUID).to.equal(thin.uid);
    expect(out.report.segments.map((s) => s.label)).to.deep.equal(['Body', 'Bone']);
  });

  it('fails a study with no usable axial series, naming each series, its slice count and its reason', async () => {
    const tilted = asSeries(ct, tilt);
    const gapped = asSeries(ct.filter((_, i) => i % 2 === 0 && i !== 40));
    const err = await failure(runPipeline({ instances: [...gapped.inputs, ...tilted.inputs], modelDir: MODEL_DIR, newUID }));
    expect(err.code).to.equal('no-usable-series');
    expect(err.message).to.contain(`series ${tilted.uid} (112 slices): `);
    expect(err.message).to.contain(`series ${gapped.uid} (55 slices): `);
    expect(err.message).to.match(/\[gantry-tilt\].*\[inconsistent-geometry\]/);
    expect(err.detail.refusedSeries?.map((r) => [r.seriesInstanceUID, r.slices, r.code])).to.deep.equal([
      [tilted.uid, 112, 'gantry-tilt'],
      [gapped.uid, 55, 'inconsistent-geometry'],
    ]);
  });

  it('keeps the code of the only series tried, and names it', async () => {
    const tilted = asSeries(ct, tilt);
    const err = await failure(runPipeline({ instances: tilted.inputs, modelDir: MODEL_DIR, newUID }));
    expect(err.code).to.equal('gantry-tilt');
    expect(err.message).to.match(new RegExp(`^series ${tilted.uid.replace(/\./g, '\\.')} \\(112 slices\\) cannot be assembled: `));
  });

  it('hands the refused series back from the worker thread too', async () => {
    const tilted = asSeries(ct, tilt);
    const gapped = asSeries(ct.filter((_, i) => i !== 40));
    const err = await failure(runPipelineInWorker({ instances: [...tilted.inputs, ...gapped.inputs], modelDir: MODEL_DIR }));
    expect(err.code).to.equal('no-usable-series');
    expect(err.detail.refusedSeries?.map((r) => r.code).sort()).to.deep.equal(['gantry-tilt', 'inconsistent-geometry']);
  });
});
