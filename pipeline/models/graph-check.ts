/**
 * Checks a manifest against what the ONNX graph declares (names, element types, ranks, fixed
 * dimensions, channel count), so a mismatch fails when the model is loaded, not mid-inference.
 */
import { expectedChannels, type ModelManifest } from './manifest.js';

/** What onnxruntime reports for a graph input or output. */
export interface GraphValue {
  name: string;
  /** Element type, e.g. "float32"; "non-tensor" for sequences and maps; absent when unknown. */
  type?: string;
  /** Dimension sizes; a string is a symbolic (free) dimension; empty when the graph does not say. */
  shape: readonly (number | string)[];
}

/** One disagreement between manifest and graph. */
export interface GraphIssue {
  /** The manifest field it concerns (`input.name`, `output.rank`, `labels`). */
  path: string;
  message: string;
}

/** What the graph tells the runner beyond the manifest. */
export interface GraphFacts {
  /** True when the graph fixes the input's spatial size (then patches are padded to it). */
  fixedSpatialSize: boolean;
}

const LABEL_TYPES = new Set(['float32', 'int64', 'int32', 'int16', 'int8', 'uint8', 'uint16', 'uint32', 'bool']);

/** Every disagreement between the manifest and the graph's inputs and outputs; empty when they agree. */
export function checkGraph(m: ModelManifest, inputs: readonly GraphValue[], outputs: readonly GraphValue[]): { issues: GraphIssue[]; facts: GraphFacts } {
  const issues: GraphIssue[] = [];
  const facts: GraphFacts = { fixedSpatialSize: false };
  const names = (vs: readonly GraphValue[]): string => vs.map((v) => `"${v.name}"`).join(', ') || 'none';

  const input = inputs.find((v) => v.name === m.input.name);
  if (!input) {
    issues.push({ path: 'input.name', message: `the graph has no input "${m.input.name}" (its inputs: ${names(inputs)})` });
  } else {
    const others = inputs.filter((v) => v !== input);
    if (others.length > 0) issues.push({ path: 'input.name', message: `the graph has other inputs (${names(others)}) that Limen cannot feed` });
    if (input.type !== undefined && input.type !== 'float32') issues.push({ path: 'input', message: `input "${input.name}" is ${input.type}, expected float32` });
    if (input.shape.length > 0) {
      if (input.shape.length !== m.input.rank) {
        issues.push({ path: 'input.rank', message: `input "${input.name}" has rank ${input.shape.length} (${fmt(input.shape)}), the manifest says ${m.input.rank}` });
      } else {
        const lead = m.input.rank - 3;
        for (let d = 0; d < lead; d++) {
          if (typeof input.shape[d] === 'number' && input.shape[d] !== 1) {
            issues.push({ path: 'input.rank', message: `input "${input.name}" dimension ${d} is ${input.shape[d]}; batch and channel must be 1 (${fmt(input.shape)})` });
          }
        }
        const spatial = input.shape.slice(lead);
        const fixed = spatial.filter((d) => typeof d === 'number').length;
        if (fixed === 3) {
          facts.fixedSpatialSize = true;
          const expected = [...m.input.axes].map((c) => m.input.patchSize?.['xyz'.indexOf(c)]);
          if (m.input.patchSize === null) {
            issues.push({ path: 'input.patchSize', message: `the graph's input has a fixed size (${fmt(input.shape)}), so it needs a patch size, not a whole-volume run` });
          } else if (spatial.some((d, i) => d !== expected[i])) {
            issues.push({ path: 'input.patchSize', message: `the graph's input is ${fmt(spatial)} (${m.input.axes}), the manifest's patch is ${fmt(expected as number[])}` });
          }
        } else if (fixed > 0) {
          issues.push({ path: 'input', message: `input "${input.name}" fixes some spatial dimensions but not all (${fmt(input.shape)}); Limen needs all fixed or all free` });
        }
      }
    }
  }

  const output = outputs.find((v) => v.name === m.output.name);
  if (!output) {
    issues.push({ path: 'output.name', message: `the graph has no output "${m.output.name}" (its outputs: ${names(outputs)})` });
  } else {
    const wantFloat = m.output.kind !== 'labels';
    if (output.type !== undefined && (wantFloat ? output.type !== 'float32' : !LABEL_TYPES.has(output.type))) {
      issues.push({ path: 'output.kind', message: `output "${output.name}" is ${output.type}, which a ${m.output.kind} output cannot be` });
    }
    if (output.shape.length > 0) {
      if (output.shape.length !== m.output.rank) {
        issues.push({ path: 'output.rank', message: `output "${output.name}" has rank ${output.shape.length} (${fmt(output.shape)}), the manifest says ${m.output.rank}` });
      } else if (m.output.rank === 5) {
        const channels = output.shape[1];
        const want = expectedChannels(m);
        if (typeof channels === 'number' && channels !== want) {
          issues.push({ path: 'labels', message: `output "${output.name}" has ${channels} channels; a ${m.output.kind} output with ${m.labels.length} label${m.labels.length === 1 ? '' : 's'} needs ${want}${m.output.kind === 'softmax' ? ' (background + labels)' : ''}` });
        }
      }
    }
  }
  return { issues, facts };
}

function fmt(shape: readonly (number | string | undefined)[]): string {
  return `[${shape.map((d) => d ?? '?').join(', ')}]`;
}
