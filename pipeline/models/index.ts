/**
 * Segmentation models: the manifest schema, the registry that loads `<models-dir>/<id>/` and
 * checks the manifest against the ONNX graph, and the manifest's view for the SEG writer.
 * The default model's builder lives in build/ (run by `npm run build:model`).
 */
export { ModelError, isModelError, type ModelErrorCode } from './errors.js';
export {
  manifestSchema,
  safeParseManifest,
  expectedChannels,
  MANIFEST_SCHEMA_VERSION,
  MAX_LABELS,
  type ModelManifest,
  type ModelLabel,
  type ModelInput,
  type ModelOutput,
  type LabelPostprocess,
  type Normalization,
  type Code,
  type ManifestIssue,
  type ManifestResult,
} from './manifest.js';
export { checkGraph, type GraphValue, type GraphIssue, type GraphFacts } from './graph-check.js';
export {
  loadModel,
  listModels,
  readManifest,
  modelDir,
  DEFAULT_MODEL_ID,
  MODEL_FILE,
  MANIFEST_FILE,
  MODEL_CARD_FILE,
  type LoadedModel,
  type LoadOptions,
  type ModelListing,
} from './registry.js';
export { segmentDescriptions, algorithmIdentification } from './describe.js';
