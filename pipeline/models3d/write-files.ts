/**
 * The only I/O of the 3D-model writers: put encoded files on disk. Each file is written to a
 * temporary name, flushed, then renamed, so a reader never sees half a file.
 */
import { open, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeGlb, type GlbOptions } from './glb.js';
import { encodeStl, encodeStlCombined, stlFileName } from './stl.js';
import type { ModelProvenance, ModelSegment } from './types.js';

/** Writes bytes to `path` durably (temporary file, fsync, rename). */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temporary = `${path}.${process.pid}.partial`;
  const handle = await open(temporary, 'w', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temporary, { force: true });
    throw err;
  }
  await handle.close();
  await rename(temporary, path);
}

/** Writes the GLB of the segments to `path`. */
export async function writeGlbFile(path: string, segments: readonly ModelSegment[], provenance: ModelProvenance, options: GlbOptions = {}): Promise<void> {
  await writeFileAtomic(path, await encodeGlb(segments, provenance, options));
}

/** Writes one STL per non-empty segment into `dir` (`NN-label.stl`); returns the file names written. */
export async function writeStlFiles(dir: string, segments: readonly ModelSegment[]): Promise<string[]> {
  const names: string[] = [];
  for (const segment of segments) {
    if (segment.mesh.indices.length === 0) continue;
    const name = stlFileName(segment.segmentNumber, segment.label);
    await writeFileAtomic(join(dir, name), encodeStl(segment.mesh));
    names.push(name);
  }
  return names;
}

/** Writes every segment into one STL at `path`. */
export async function writeCombinedStlFile(path: string, segments: readonly ModelSegment[]): Promise<void> {
  await writeFileAtomic(path, encodeStlCombined(segments.map((s) => s.mesh)));
}
