/** The onnxruntime side of inference: one patch in, the named output back as float32. */
import * as ort from 'onnxruntime-node';
import { ModelError } from '../models/errors.js';
import type { LoadedModel } from '../models/registry.js';
import type { PatchRunner } from './segment-volume.js';

/** A PatchRunner over a loaded model's session. Blocks its thread while the graph runs. */
export function onnxRunner(model: LoadedModel): PatchRunner {
  const { input, output } = model.manifest;
  return {
    fixedSpatialSize: model.facts.fixedSpatialSize,
    async run(data, dims) {
      let result: ort.InferenceSession.ReturnType;
      try {
        result = await model.session.run({ [input.name]: new ort.Tensor('float32', data, dims) }, [output.name]);
      } catch (e) {
        throw new ModelError('inference-failed', `model "${model.id}" failed on a patch of [${dims.join(', ')}]: ${(e as Error).message}`, { path: model.dir, cause: e });
      }
      const out = result[output.name] as ort.Tensor;
      const values = out.data;
      let floats: Float32Array;
      if (values instanceof Float32Array) floats = values;
      else if (values instanceof BigInt64Array || values instanceof BigUint64Array) floats = Float32Array.from(values, (v) => Number(v));
      else if (ArrayBuffer.isView(values) && !(values instanceof DataView)) floats = Float32Array.from(values as unknown as ArrayLike<number>);
      else throw new ModelError('inference-failed', `output "${output.name}" is not a numeric tensor`, { path: model.dir });
      return { data: floats, dims: out.dims };
    },
  };
}
