/**
 * The model registry: `<models-dir>/<id>/{model.onnx, manifest.json, MODEL_CARD.md}`. Loading a
 * model validates the manifest, verifies the ONNX file's SHA-256, opens an onnxruntime session
 * and checks the manifest against the graph, so every mismatch surfaces here, not mid-inference.
 */
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ModelError } from './errors.js';
import { checkGraph, type GraphFacts, type GraphValue } from './graph-check.js';
import { safeParseManifest, type ModelManifest } from './manifest.js';

export const MODEL_FILE = 'model.onnx';
export const MANIFEST_FILE = 'manifest.json';
export const MODEL_CARD_FILE = 'MODEL_CARD.md';
/** The model a route uses when it names none. */
export const DEFAULT_MODEL_ID = 'default';

const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** A model ready to run. Call `close()` to free the session. */
export interface LoadedModel {
  id: string;
  dir: string;
  manifest: ModelManifest;
  modelCard: string;
  /** SHA-256 of model.onnx as read (equal to the manifest's). */
  sha256: string;
  session: ort.InferenceSession;
  facts: GraphFacts;
  close(): Promise<void>;
}

/** Session settings; onnxruntime's defaults otherwise (all cores, full graph optimisation). */
export interface LoadOptions {
  intraOpNumThreads?: number;
}

/** The directory of model `id` under `modelsDir`; an id that is not a plain name is refused. */
export function modelDir(modelsDir: string, id: string): string {
  if (!ID.test(id)) throw new ModelError('missing-file', `"${id}" is not a model id (lower-case letters, digits, ".", "_", "-")`, { path: id });
  return join(resolve(modelsDir), id);
}

/** Reads and validates a model directory's manifest, without opening the graph. */
export async function readManifest(dir: string): Promise<ModelManifest> {
  const file = join(dir, MANIFEST_FILE);
  const text = await readText(file);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ModelError('invalid-manifest', `${file} is not JSON: ${(e as Error).message}`, { path: file });
  }
  const r = safeParseManifest(json);
  if (!r.ok) {
    throw new ModelError('invalid-manifest', `${file}: ${r.issues.map((i) => `${i.path || '(root)'}: ${i.message}`).join('; ')}`, {
      path: r.issues[0]?.path ? `${file}#${r.issues[0].path}` : file,
    });
  }
  const id = basename(resolve(dir));
  if (r.manifest.id !== id) {
    throw new ModelError('invalid-manifest', `${file}: id "${r.manifest.id}" differs from the directory name "${id}"`, { path: `${file}#id` });
  }
  return r.manifest;
}

/** Loads, verifies and opens a model directory. */
export async function loadModel(dir: string, options: LoadOptions = {}): Promise<LoadedModel> {
  const manifest = await readManifest(dir);
  const modelCard = await readText(join(dir, MODEL_CARD_FILE));
  if (modelCard.trim() === '') throw new ModelError('missing-file', `${join(dir, MODEL_CARD_FILE)} is empty`, { path: join(dir, MODEL_CARD_FILE) });
  const onnxPath = join(dir, MODEL_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(onnxPath);
  } catch (e) {
    throw new ModelError('missing-file', `cannot read ${onnxPath}: ${(e as Error).message}`, { path: onnxPath, cause: e });
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== manifest.onnx.sha256) {
    throw new ModelError('checksum-mismatch', `${onnxPath} has SHA-256 ${sha256}, the manifest says ${manifest.onnx.sha256}`, { path: onnxPath });
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      ...(options.intraOpNumThreads ? { intraOpNumThreads: options.intraOpNumThreads } : {}),
    });
  } catch (e) {
    throw new ModelError('invalid-onnx', `onnxruntime cannot open ${onnxPath}: ${(e as Error).message}`, { path: onnxPath, cause: e });
  }
  const { issues, facts } = checkGraph(manifest, graphValues(session.inputMetadata), graphValues(session.outputMetadata));
  if (issues.length > 0) {
    await session.release();
    throw new ModelError('graph-mismatch', `${dir}: the manifest and the ONNX graph disagree: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
      path: `${join(dir, MANIFEST_FILE)}#${issues[0].path}`,
    });
  }
  return { id: manifest.id, dir: resolve(dir), manifest, modelCard, sha256, session, facts, close: () => session.release() };
}

/** One entry of `listModels`: a valid manifest, or why the directory is not a usable model. */
export type ModelListing = { id: string; dir: string; manifest: ModelManifest } | { id: string; dir: string; error: ModelError };

/**
 * The models under `modelsDir`, by id: each directory holding a manifest.json. Manifests are
 * validated; graphs are not opened (use `loadModel` for the full check).
 */
export async function listModels(modelsDir: string): Promise<ModelListing[]> {
  const root = resolve(modelsDir);
  let names: string[];
  try {
    names = await readdir(root);
  } catch (e) {
    throw new ModelError('missing-file', `cannot read the models directory ${root}: ${(e as Error).message}`, { path: root, cause: e });
  }
  const out: ModelListing[] = [];
  for (const id of names.sort()) {
    const dir = join(root, id);
    if (!(await stat(dir)).isDirectory()) continue;
    if (!(await exists(join(dir, MANIFEST_FILE)))) continue;
    try {
      out.push({ id, dir, manifest: await readManifest(dir) });
    } catch (e) {
      if (!(e instanceof ModelError)) throw e;
      out.push({ id, dir, error: e });
    }
  }
  return out;
}

function graphValues(meta: readonly ort.InferenceSession.ValueMetadata[]): GraphValue[] {
  return meta.map((v) => (v.isTensor ? { name: v.name, type: v.type, shape: v.shape } : { name: v.name, type: 'non-tensor', shape: [] }));
}

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new ModelError('missing-file', `cannot read ${file}: ${(e as Error).message}`, { path: file, cause: e });
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
