/**
 * V8's optimising compiler, tuned for a gateway that receives in bursts on a few cores. By
 * default V8 optimises a function after a few dozen calls: in a freshly started gateway the first
 * study's few hundred instances make it compile some 150 functions, about a third of the process's
 * CPU over those instances, on a compiler thread that competes with the receiving one (BENCHMARKS.md,
 * edge). Four times the default budget, V8 optimises what stays hot and leaves the rest to its
 * baseline code; a gateway that has run a while ends with the same optimised code.
 */
import { setFlagsFromString } from 'node:v8';

/**
 * Bytecodes run before a function is considered for optimisation: four times the 67,584 of
 * Node 20's V8 (what BENCHMARKS.md measured); on a later Node, whose default may differ, a
 * budget still above it.
 */
export const INTERRUPT_BUDGET = 4 * 67_584;

/** Applies the budget to every function whose budget is set from now on; before any instance is received. */
export function tuneOptimisingCompiler(): void {
  setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
}
