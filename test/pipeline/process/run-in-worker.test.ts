import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PipelineError } from '../../../pipeline/process/errors.js';
import { shippedModelsDir } from '../../../pipeline/process/model-dirs.js';
import { runPipelineInWorker } from '../../../pipeline/process/run-in-worker.js';

describe('pipeline: runPipelineInWorker', function () {
  this.timeout(60_000);

  it('hands the worker each instance’s own bytes, also when they are a view into a larger buffer (a small blob in Node’s pool)', async () => {
    // A CT slice of 3.5 KB: Node allocates buffers this small out of a shared pool, at an offset.
    const file = readFileSync('test/fixtures/pydicom-corpus/test_files/693_J2KI.dcm');
    const pool = Buffer.alloc(8192);
    pool.set(file, 1000);
    const bytes = pool.subarray(1000, 1000 + file.length);
    const err = await runPipelineInWorker({ instances: [{ bytes }], modelDir: join(shippedModelsDir(), 'default') }).then(
      () => null,
      (e: unknown) => e,
    );
    // One readable slice: too few to segment, not "no readable instance" (the pool's first bytes).
    expect(err).to.be.instanceOf(PipelineError);
    expect((err as PipelineError).code, (err as Error).message).to.equal('too-few-slices');
    expect(pool.subarray(1000, 1000 + file.length).equals(file), 'the caller’s bytes are left as they were').to.equal(true);
  });
});
