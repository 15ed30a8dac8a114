/**
 * The ct-fakephi grid read with the project's DICOM reader, synthetic label maps on it, a SEG input
 * with de-identified-looking values, and the pydicom cross-check used by the SEG tests.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dicom } from '../../../anonymizer/index.js';
import type { SegmentationInput } from '../../../pipeline/seg/index.js';
import type { LabelMap, SliceSource, VolumeGeometry } from '../../../pipeline/volume/types.js';

export const FIXTURES = new URL('../../fixtures/', import.meta.url).pathname;
export const CT_DIR = join(FIXTURES, 'ct-fakephi/dicom');

/** A `2.25.` UID from a random UUID (PS3.5 §B.2). */
export const uuidUID = (): string => `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;

export interface CtGrid {
  geometry: VolumeGeometry;
  sources: SliceSource[];
  studyInstanceUID: string;
  seriesInstanceUID: string;
  frameOfReferenceUID: string;
  /** One source instance's dataset (for the patient/study elements). */
  firstDataset: dicom.Element[];
}

const nums = (el: dicom.Element | undefined): number[] => dicom.stringsOf(el).map(Number);
const cross = (a: number[], b: number[]): [number, number, number] => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const dot = (a: readonly number[], b: readonly number[]): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];

const cached = new Map<string, CtGrid>();

/** The ct-fakephi series' grid (or another single-frame series'), slices sorted along the slice normal. */
export function loadCtGrid(dir = CT_DIR): CtGrid {
  const hit = cached.get(dir);
  if (hit) return hit;
  const T = dicom.T;
  const slices = readdirSync(dir)
    .filter((f) => f.endsWith('.dcm'))
    .map((f) => dicom.readPart10(readFileSync(join(dir, f))).dataset);
  const first = slices[0];
  const iop = nums(dicom.find(first, 0x00200037));
  const row = iop.slice(0, 3);
  const col = iop.slice(3, 6);
  const normal = cross(row, col);
  const withPos = slices.map((ds) => ({ ds, pos: nums(dicom.find(ds, 0x00200032)) as [number, number, number] }));
  withPos.sort((a, b) => dot(a.pos, normal) - dot(b.pos, normal));
  const [rowSpacing, colSpacing] = nums(dicom.find(first, 0x00280030));
  const sliceSpacing = dot(withPos[1].pos, normal) - dot(withPos[0].pos, normal);
  const str = (tag: number): string => dicom.stringOf(dicom.find(first, tag)) ?? '';
  const grid: CtGrid = {
    geometry: {
      dims: [dicom.uint16Of(dicom.find(first, 0x00280011))!, dicom.uint16Of(dicom.find(first, 0x00280010))!, slices.length],
      spacing: [colSpacing, rowSpacing, sliceSpacing],
      origin: withPos[0].pos,
      rowDirection: row as [number, number, number],
      columnDirection: col as [number, number, number],
      sliceDirection: normal,
    },
    sources: withPos.map(({ ds, pos }) => ({
      sopClassUID: dicom.stringOf(dicom.find(ds, T.SOPClassUID))!,
      sopInstanceUID: dicom.stringOf(dicom.find(ds, T.SOPInstanceUID))!,
      position: pos,
    })),
    studyInstanceUID: str(T.StudyInstanceUID),
    seriesInstanceUID: str(T.SeriesInstanceUID),
    frameOfReferenceUID: str(T.FrameOfReferenceUID),
    firstDataset: first,
  };
  cached.set(dir, grid);
  return grid;
}

/**
 * Three disjoint segments on the grid: a sphere (1), a box (2) and a sparse pattern (3) present on
 * a few separate slices only, which also sets the first and the last pixel of its frames, where
 * frame boundaries fall mid-byte.
 */
export function syntheticLabels(g: VolumeGeometry): LabelMap {
  const [nx, ny, nz] = g.dims;
  const labels = new Uint8Array(nx * ny * nz);
  const at = (x: number, y: number, z: number): number => x + nx * (y + ny * z);
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      for (let x = 0; x < nx; x++) {
        const d2 = (x - 61) ** 2 + (y - 50) ** 2 + (z - 56) ** 2;
        if (d2 <= 20 * 20) labels[at(x, y, z)] = 1;
        else if (x >= 5 && x <= 30 && y >= 10 && y <= 40 && z >= 70 && z <= 100) labels[at(x, y, z)] = 2;
      }
    }
  }
  for (const z of [0, 3, 4, 5, 50, 111]) {
    for (let y = 0; y < ny; y++) for (let x = 85; x < nx; x++) if ((x * 7 + y * 13 + z) % 11 === 0) labels[at(x, y, z)] = 3;
    labels[at(0, 0, z)] = 3;
    labels[at(nx - 1, ny - 1, z)] = 3;
  }
  return { ...g, labels };
}

/** A complete writer input on the ct-fakephi grid; `overrides` replaces fields. */
export function segInput(labelMap: LabelMap, overrides: Partial<SegmentationInput> = {}): SegmentationInput {
  const grid = loadCtGrid();
  return {
    labelMap,
    source: { studyInstanceUID: grid.studyInstanceUID, seriesInstanceUID: grid.seriesInstanceUID, frameOfReferenceUID: grid.frameOfReferenceUID, sources: grid.sources },
    patientStudy: {
      patientName: 'ANON^7F3A21',
      patientID: 'PSEUDO-7F3A21',
      studyDate: '20230101',
      studyTime: '101502',
      accessionNumber: 'A7F3A21',
      studyID: 'S7F3A21',
    },
    segments: [
      { labelId: 1, label: 'Sphere', category: { value: '91723000', scheme: 'SCT', meaning: 'Anatomical Structure' }, type: { value: '10200004', scheme: 'SCT', meaning: 'Liver' }, rgb: [221, 130, 101] },
      { labelId: 2, label: 'Box', category: { value: '91723000', scheme: 'SCT', meaning: 'Anatomical Structure' }, type: { value: '272673000', scheme: 'SCT', meaning: 'Bone' }, rgb: [241, 214, 145], anatomicRegion: { value: '818981001', scheme: 'SCT', meaning: 'Abdomen' } },
      { labelId: 3, label: 'Sparse', description: 'present on a few slices', category: { value: '85756007', scheme: 'SCT', meaning: 'Tissue' }, type: { value: '39937001', scheme: 'SCT', meaning: 'Skin' }, cieLab: [40000, 30000, 35000] },
    ],
    algorithm: { name: 'Limen test model', version: '1.0.0', family: { value: '123110', scheme: 'DCM', meaning: 'Artificial Intelligence' } },
    equipment: { manufacturer: 'Limen', modelName: 'Limen segmentation', deviceSerialNumber: 'limen-test', softwareVersions: '0.1.0' },
    contentCreatorName: 'LIMEN^AUTOMATIC',
    contentDescription: 'Test segmentation',
    seriesNumber: 901,
    seriesDescription: 'Segmentation (test)',
    newUID: uuidUID,
    contentDateTime: new Date('2024-05-06T07:08:09.123Z'),
    ...overrides,
  };
}

const made: string[] = [];

/** A fresh temporary directory, removed by `removeTempDirs`. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'limen-seg-'));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Runs a peer, capturing stdout and stderr whatever the exit status. */
export function run(cmd: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

const PYDICOM_READ = String.raw`
import json, sys, warnings
import numpy as np
import pydicom
warnings.simplefilter('error')
summaries = []
for job in json.loads(sys.argv[1]):
    ds = pydicom.dcmread(job['path'])
    arr = ds.pixel_array
    if arr.ndim == 2:
        arr = arr[None]
    values = [int(v) for v in np.unique(arr)]
    if ds.SegmentationType == 'FRACTIONAL':
        # The mask: a fraction of at least half.
        arr = arr.astype(np.uint32) * 2 >= int(ds.MaximumFractionalValue)
    arr.astype(np.uint8).tofile(job['framesOut'])
    numbers = [int(s.SegmentNumber) for s in ds.SegmentSequence]
    summaries.append({'shape': list(arr.shape), 'labels': [str(s.SegmentLabel) for s in ds.SegmentSequence], 'segmentNumbers': numbers,
                      'segmentationType': str(ds.SegmentationType), 'bitsAllocated': int(ds.BitsAllocated), 'values': values})
    grid = job.get('grid')
    if grid:
        nx, ny, nz = grid['dims']
        origin = np.array(grid['origin'], float)
        normal = np.array(grid['sliceDirection'], float)
        vol = np.zeros((len(numbers), nz, ny, nx), np.uint8)
        for i, fg in enumerate(ds.PerFrameFunctionalGroupsSequence):
            seg = int(fg.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
            ipp = np.array([float(v) for v in fg.PlanePositionSequence[0].ImagePositionPatient])
            z = int(round(float(np.dot(ipp - origin, normal)) / grid['spacing'][2]))
            vol[numbers.index(seg), z] |= arr[i].astype(np.uint8)
        vol.tofile(job['volumeOut'])
print(json.dumps(summaries))
`;

export interface PydicomRead {
  shape: number[];
  labels: string[];
  segmentNumbers: number[];
  segmentationType: string;
  bitsAllocated: number;
  /** The distinct values of pixel_array, as stored. */
  values: number[];
  /** pixel_array as masks (a FRACTIONAL pixel of at least half the maximum is 1), one byte per pixel, frame after frame. */
  frames: Uint8Array;
  /** Per segment (in SegmentSequence order), the frames placed on the grid by their positions. */
  volume?: Uint8Array;
}

/**
 * Reads SEGs with pydicom in one Python process (warnings are errors); with a grid, also maps
 * each SEG's frames onto it by PlanePositionSequence.
 */
export function readManyWithPydicom(segs: Array<{ path: string; grid?: VolumeGeometry }>): PydicomRead[] {
  const dir = tempDir();
  const jobs = segs.map(({ path, grid }, i) => ({
    path,
    framesOut: join(dir, `frames-${i}.u8`),
    volumeOut: join(dir, `volume-${i}.u8`),
    grid: grid ? { dims: grid.dims, origin: grid.origin, sliceDirection: grid.sliceDirection, spacing: grid.spacing } : undefined,
  }));
  const r = run('/usr/bin/python3', ['-c', PYDICOM_READ, JSON.stringify(jobs)]);
  if (r.status !== 0) throw new Error(`pydicom failed (${r.status}): ${r.stderr}`);
  const summaries = JSON.parse(r.stdout) as Array<Omit<PydicomRead, 'frames' | 'volume'>>;
  return summaries.map((summary, i) => ({
    ...summary,
    frames: readFileSync(jobs[i].framesOut),
    volume: jobs[i].grid ? readFileSync(jobs[i].volumeOut) : undefined,
  }));
}

export const readWithPydicom = (path: string, grid?: VolumeGeometry): PydicomRead => readManyWithPydicom([{ path, grid }])[0];

/** Runs dciodvfy and returns its error and warning lines. */
export function dciodvfy(path: string): { errors: string[]; warnings: string[]; output: string } {
  const r = run('/usr/bin/dciodvfy', [path]);
  const output = `${r.stdout}${r.stderr}`;
  const lines = output.split('\n');
  return { errors: lines.filter((l) => /^Error/.test(l)), warnings: lines.filter((l) => /^Warning/.test(l)), output };
}

export function writeTemp(name: string, bytes: Uint8Array): string {
  const path = join(tempDir(), name);
  writeFileSync(path, bytes);
  return path;
}
