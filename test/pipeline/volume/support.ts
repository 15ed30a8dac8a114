/**
 * Test helpers for volume assembly: the ct-fakephi series, edited copies of it built in memory,
 * pydicom as the independent reference, and DCMTK / GDCM to encode compressed copies.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { dicom } from '../../../anonymizer/index.js';
import { CT_FAKEPHI_FILES } from '../../support/fakephi.js';

const run = promisify(execFile);

export type Dataset = dicom.Dataset;
export interface Input {
  bytes: Uint8Array;
}

/** Tags the tests edit. */
export const TAG = {
  SOPClassUID: 0x00080016,
  SOPInstanceUID: 0x00080018,
  Modality: 0x00080060,
  ImageType: 0x00080008,
  SliceThickness: 0x00180050,
  SeriesInstanceUID: 0x0020000e,
  InstanceNumber: 0x00200013,
  ImagePositionPatient: 0x00200032,
  ImageOrientationPatient: 0x00200037,
  FrameOfReferenceUID: 0x00200052,
  SliceLocation: 0x00201041,
  NumberOfFrames: 0x00280008,
  Rows: 0x00280010,
  PixelSpacing: 0x00280030,
  BitsStored: 0x00280101,
  HighBit: 0x00280102,
  PixelRepresentation: 0x00280103,
  RescaleIntercept: 0x00281052,
  RescaleSlope: 0x00281053,
  RescaleType: 0x00281054,
  PlanePositionSequence: 0x00209113,
  PlaneOrientationSequence: 0x00209116,
  PixelMeasuresSequence: 0x00289110,
  PixelValueTransformationSequence: 0x00289145,
  SharedFunctionalGroupsSequence: 0x52009229,
  PerFrameFunctionalGroupsSequence: 0x52009230,
  PixelData: 0x7fe00010,
} as const;

export const FAKEPHI_ROWS = 101;
export const FAKEPHI_COLUMNS = 122;
export const PLANE = FAKEPHI_ROWS * FAKEPHI_COLUMNS;

/** The 112 slices of test/fixtures/ct-fakephi, in file order (most superior first). */
export function fakephiInputs(): Input[] {
  return CT_FAKEPHI_FILES.map((f) => ({ bytes: new Uint8Array(readFileSync(f)) }));
}

export const fakephiFiles = (): string[] => [...CT_FAKEPHI_FILES];

/** A deterministic shuffle (seeded LCG), so a failure can be reproduced. */
export function shuffled<T>(items: T[], seed = 12345): T[] {
  const out = [...items];
  let s = seed >>> 0;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Replaces (or adds) a text element. */
export function setText(ds: Dataset, tag: number, vr: dicom.VR, text: string): void {
  const el = dicom.textElement(tag, vr, text);
  const at = ds.findIndex((e) => e.tag === tag);
  if (at >= 0) ds[at] = el;
  else ds.push(el);
}

/** Replaces (or adds) an unsigned short. */
export function setUS(ds: Dataset, tag: number, value: number): void {
  const el: dicom.Element = { tag, vr: 'US', value: new Uint8Array([value & 0xff, value >> 8]) };
  const at = ds.findIndex((e) => e.tag === tag);
  if (at >= 0) ds[at] = el;
  else ds.push(el);
}

export function remove(ds: Dataset, tag: number): void {
  const at = ds.findIndex((e) => e.tag === tag);
  if (at >= 0) ds.splice(at, 1);
}

export const numbers = (ds: Dataset, tag: number): number[] => dicom.stringsOf(dicom.find(ds, tag)).map(Number);
export const text = (ds: Dataset, tag: number): string => dicom.stringOf(dicom.find(ds, tag)) ?? '';

/** Parses, lets `edit` change the dataset (a shallow copy: replace elements, do not mutate values), writes again. */
export function edited(input: Input, edit: (ds: Dataset) => void): Input {
  const parsed = dicom.readPart10(input.bytes);
  const ds = [...parsed.dataset];
  edit(ds);
  return { bytes: rewrite(ds, parsed.transferSyntax.uid) };
}

/** A Part 10 file of `ds` in the given transfer syntax (values are already encoded for it). */
export function rewrite(ds: Dataset, transferSyntaxUID: string): Uint8Array {
  return dicom.writePart10(
    {
      mediaStorageSOPClassUID: text(ds, TAG.SOPClassUID),
      mediaStorageSOPInstanceUID: text(ds, TAG.SOPInstanceUID),
      transferSyntaxUID,
      implementationClassUID: '2.25.1',
      implementationVersionName: 'LIMEN_TEST',
    },
    ds,
  );
}

/**
 * A dose screen as scanners store it in the CT series: a Secondary Capture (a copy of `slice` with
 * the SC SOP Class), without plane geometry or rescale, as the SC Image IOD has none.
 */
export function doseScreen(slice: Input): Input {
  return edited(slice, (d) => {
    setText(d, TAG.SOPClassUID, 'UI', '1.2.840.10008.5.1.4.1.1.7');
    setText(d, TAG.SOPInstanceUID, 'UI', newUID());
    setText(d, TAG.ImageType, 'CS', 'DERIVED\\SECONDARY\\OTHER');
    setText(d, TAG.InstanceNumber, 'IS', '999');
    for (const tag of [TAG.ImagePositionPatient, TAG.ImageOrientationPatient, TAG.PixelSpacing, TAG.SliceLocation, TAG.RescaleIntercept, TAG.RescaleSlope, TAG.RescaleType]) remove(d, tag);
  });
}

let uidCounter = 0;
/** A fresh UID for edited copies. */
export const newUID = (): string => `2.25.${Date.now()}${process.pid}${++uidCounter}`;

/** The raw little-endian pixel bytes of an uncompressed instance. */
export function rawPixels(input: Input): Uint8Array {
  const el = dicom.find(dicom.readPart10(input.bytes).dataset, TAG.PixelData);
  if (!el?.value) throw new Error('no native pixel data');
  return el.value;
}

/** Reads int16 little-endian values from bytes. */
export function int16s(bytes: Uint8Array): Int16Array {
  const out = new Int16Array(bytes.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = (bytes[2 * i] | (bytes[2 * i + 1] << 8)) << 16 >> 16;
  return out;
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `limen-volume-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Writes inputs as files in `dir`, named <prefix>-0000.dcm, <prefix>-0001.dcm, ... */
export function writeAll(dir: string, inputs: Input[], prefix = 'in'): string[] {
  return inputs.map((input, i) => {
    const path = join(dir, `${prefix}-${String(i).padStart(4, '0')}.dcm`);
    writeFileSync(path, input.bytes);
    return path;
  });
}

let batches = 0;
/** Runs `tool` once per file (in → out), a few at a time, and returns the outputs as inputs. */
export async function convertEach(tool: string, args: (input: string, output: string) => string[], files: string[], outDir: string): Promise<Input[]> {
  const batch = ++batches;
  const outputs = files.map((f, i) => join(outDir, `out${batch}-${String(i).padStart(4, '0')}.dcm`));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < files.length) {
      const i = next++;
      await run(tool, args(files[i], outputs[i]), { env: { ...process.env, TCP_NODELAY: '1' } });
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return outputs.map((o) => ({ bytes: new Uint8Array(readFileSync(o)) }));
}

/** The transfer syntax UID of a file. */
export const transferSyntaxOf = (input: Input): string => dicom.readPart10(input.bytes).transferSyntax.uid;

const PYDICOM_HU = `
import sys, json, numpy as np, pydicom, warnings
warnings.simplefilter('ignore')
out = sys.argv[1]
ds = [pydicom.dcmread(f) for f in sys.argv[2:]]
ds.sort(key=lambda d: float(d.ImagePositionPatient[2]))
vol = np.stack([d.pixel_array.astype(np.float64) * float(getattr(d, 'RescaleSlope', 1)) + float(getattr(d, 'RescaleIntercept', 0)) for d in ds])
np.clip(np.rint(vol), -32768, 32767).astype('<i2').tofile(out)
print(json.dumps({'sop': [str(d.SOPInstanceUID) for d in ds], 'z': [float(d.ImagePositionPatient[2]) for d in ds], 'shape': list(vol.shape)}))
`;

/** pydicom's HU of the given files, stacked by ImagePositionPatient z (pixel_array × slope + intercept). */
export function pydicomHu(files: string[]): { hu: Int16Array; sop: string[]; z: number[]; shape: number[] } {
  const { dir, cleanup } = tempDir('pydicom');
  try {
    const out = join(dir, 'hu.raw');
    const stdout = execFileSync('/usr/bin/python3', ['-c', PYDICOM_HU, out, ...files], { maxBuffer: 64 << 20 }).toString();
    const meta = JSON.parse(stdout) as { sop: string[]; z: number[]; shape: number[] };
    return { hu: int16s(new Uint8Array(readFileSync(out))), ...meta };
  } finally {
    cleanup();
  }
}

/** Index of the first voxel where two arrays differ, or -1. */
export function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

const sq = (tag: number, ...items: dicom.Element[][]): dicom.Element => ({ tag, vr: 'SQ', items });
const txt = (tag: number, vr: dicom.VR, value: string): dicom.Element => dicom.textElement(tag, vr, value);

/**
 * A minimal Enhanced CT (one multi-frame instance) from single-frame slices, frames in the order
 * given: PixelMeasures and PlaneOrientation shared, PlanePosition per frame, rescale shared or,
 * with `perFrameRescale`, per frame with every other frame's stored values shifted by 24 and its
 * intercept raised to match, so only a per-frame reading gives the right HU.
 */
export function enhancedCt(slices: Input[], options: { perFrameRescale?: boolean } = {}): Input {
  const parsed = slices.map((s) => dicom.readPart10(s.bytes).dataset);
  const base = parsed[0];
  const perFrameTags: number[] = [
    TAG.ImagePositionPatient, TAG.ImageOrientationPatient, TAG.PixelSpacing, TAG.SliceThickness, TAG.SliceLocation,
    TAG.RescaleIntercept, TAG.RescaleSlope, TAG.RescaleType, TAG.PixelData, TAG.InstanceNumber,
  ];
  const ds: Dataset = base.filter((e) => !perFrameTags.includes(e.tag));
  setText(ds, TAG.SOPClassUID, 'UI', '1.2.840.10008.5.1.4.1.1.2.1');
  setText(ds, TAG.SOPInstanceUID, 'UI', newUID());
  setText(ds, TAG.InstanceNumber, 'IS', '1');
  setText(ds, TAG.NumberOfFrames, 'IS', String(slices.length));
  const copy = (d: Dataset, tag: number): dicom.Element => {
    const el = dicom.find(d, tag);
    if (!el) throw new Error(`no ${tag.toString(16)}`);
    return el;
  };
  const rescale = (intercept: string, slope: string): dicom.Element[] => [txt(TAG.RescaleIntercept, 'DS', intercept), txt(TAG.RescaleSlope, 'DS', slope), txt(TAG.RescaleType, 'LO', 'HU')];
  const shared: dicom.Element[] = [
    sq(TAG.PixelMeasuresSequence, [copy(base, TAG.PixelSpacing), copy(base, TAG.SliceThickness)]),
    sq(TAG.PlaneOrientationSequence, [copy(base, TAG.ImageOrientationPatient)]),
  ];
  if (!options.perFrameRescale) shared.push(sq(TAG.PixelValueTransformationSequence, rescale(text(base, TAG.RescaleIntercept), text(base, TAG.RescaleSlope))));
  const frameBytes = PLANE * 2;
  const pixels = new Uint8Array(frameBytes * slices.length);
  const perFrame = parsed.map((d, k) => {
    const raw = dicom.find(d, TAG.PixelData)!.value!;
    const shift = options.perFrameRescale && k % 2 === 1 ? 24 : 0;
    for (let i = 0; i < PLANE; i++) {
      const v = ((raw[2 * i] | (raw[2 * i + 1] << 8)) << 16 >> 16) - shift;
      pixels[k * frameBytes + 2 * i] = v & 0xff;
      pixels[k * frameBytes + 2 * i + 1] = (v >> 8) & 0xff;
    }
    const item: dicom.Element[] = [sq(TAG.PlanePositionSequence, [copy(d, TAG.ImagePositionPatient)])];
    if (options.perFrameRescale) item.push(sq(TAG.PixelValueTransformationSequence, rescale(String(Number(text(d, TAG.RescaleIntercept)) + shift), text(d, TAG.RescaleSlope))));
    return item;
  });
  ds.push(sq(TAG.SharedFunctionalGroupsSequence, shared));
  ds.push(sq(TAG.PerFrameFunctionalGroupsSequence, ...perFrame));
  ds.push({ tag: TAG.PixelData, vr: 'OW', value: pixels });
  return { bytes: rewrite(ds, '1.2.840.10008.1.2.1') };
}
