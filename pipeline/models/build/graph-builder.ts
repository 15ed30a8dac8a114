/**
 * A small helper over the ONNX description: adds nodes and initializers with generated, stable
 * names, so a model builder reads like the computation it encodes.
 */
import type { OnnxAttribute, OnnxGraph, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnx.js';

/** Typed attribute constructors. */
export const attr = {
  int: (value: number): OnnxAttribute => ({ kind: 'int', value }),
  ints: (value: number[]): OnnxAttribute => ({ kind: 'ints', value }),
  float: (value: number): OnnxAttribute => ({ kind: 'float', value }),
  floats: (value: number[]): OnnxAttribute => ({ kind: 'floats', value }),
  string: (value: string): OnnxAttribute => ({ kind: 'string', value }),
};

/** Collects nodes and initializers; every tensor name it hands out is unique and deterministic. */
export class GraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers: OnnxTensor[] = [];
  private readonly used = new Set<string>();

  private fresh(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** Reserves a name that a graph input will carry. */
  input(name: string): string {
    if (this.used.has(name)) throw new Error(`tensor name ${name} is already used`);
    this.used.add(name);
    return name;
  }

  /** A float32 initializer. */
  floats(name: string, dims: number[], data: ArrayLike<number>): string {
    const tensorName = this.fresh(name);
    this.initializers.push({ name: tensorName, dataType: 'float', dims, data: Float32Array.from(data) });
    return tensorName;
  }

  /** An int64 initializer (shapes, pads for Pad, axes). */
  int64s(name: string, values: number[]): string {
    const tensorName = this.fresh(name);
    this.initializers.push({ name: tensorName, dataType: 'int64', dims: [values.length], data: BigInt64Array.from(values.map(BigInt)) });
    return tensorName;
  }

  /** Adds one node with a single output; `output` names it (graph outputs need a fixed name). */
  op(opType: string, inputs: string[], attributes?: Record<string, OnnxAttribute>, output?: string): string {
    const out = output === undefined ? this.fresh(opType.toLowerCase()) : this.input(output);
    this.nodes.push({ name: this.fresh(`node_${opType}`), opType, inputs, outputs: [out], ...(attributes ? { attributes } : {}) });
    return out;
  }

  /** Adds one node with several outputs (Split). */
  opMulti(opType: string, inputs: string[], outputs: number, attributes?: Record<string, OnnxAttribute>): string[] {
    const outs = Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()));
    this.nodes.push({ name: this.fresh(`node_${opType}`), opType, inputs, outputs: outs, ...(attributes ? { attributes } : {}) });
    return outs;
  }

  graph(name: string, inputs: OnnxValueInfo[], outputs: OnnxValueInfo[], docString?: string): OnnxGraph {
    return { name, nodes: [...this.nodes], initializers: [...this.initializers], inputs, outputs, ...(docString ? { docString } : {}) };
  }
}
