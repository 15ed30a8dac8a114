/**
 * Test-only loader for test/fixtures/ct-fakephi: reads the 112 DICOM slices with the anonymizer's
 * reader, sorts them by ImagePositionPatient along the slice normal (inferior → superior), applies
 * the rescale, and reads TotalSegmentator's reference labels on the same grid. Just enough for
 * these uncompressed, axial, single-frame files; the pipeline's own volume assembly lives elsewhere.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'fflate';
import { dicom } from '../../../../anonymizer/index.js';
import type { VolumeGeometry } from '../../../../pipeline/volume/types.js';

const ROOT = fileURLToPath(new URL('../../../fixtures/ct-fakephi/', import.meta.url));

export interface FakephiCt extends VolumeGeometry {
  hu: Int16Array;
}

const tag = (keyword: string): number => {
  const t = dicom.tagOfKeyword(keyword);
  if (t === undefined) throw new Error(`no tag for ${keyword}`);
  return t;
};

function numbers(ds: dicom.Dataset, keyword: string): number[] {
  return dicom.stringsOf(dicom.find(ds, tag(keyword))).map(Number);
}

/** The CT in HU on its DICOM grid, slices ascending along the normal. */
export function loadFakephiCt(): FakephiCt {
  const dir = `${ROOT}dicom/`;
  const slices = readdirSync(dir)
    .filter((f) => f.endsWith('.dcm'))
    .map((f) => dicom.readPart10(readFileSync(dir + f)).dataset);
  const first = slices[0];
  const rows = dicom.uint16Of(dicom.find(first, tag('Rows')))!;
  const cols = dicom.uint16Of(dicom.find(first, tag('Columns')))!;
  const iop = numbers(first, 'ImageOrientationPatient');
  const [rowSpacing, colSpacing] = numbers(first, 'PixelSpacing');
  const row: [number, number, number] = [iop[0], iop[1], iop[2]];
  const col: [number, number, number] = [iop[3], iop[4], iop[5]];
  const normal: [number, number, number] = [row[1] * col[2] - row[2] * col[1], row[2] * col[0] - row[0] * col[2], row[0] * col[1] - row[1] * col[0]];
  const along = (ds: dicom.Dataset): number => {
    const p = numbers(ds, 'ImagePositionPatient');
    return p[0] * normal[0] + p[1] * normal[1] + p[2] * normal[2];
  };
  slices.sort((a, b) => along(a) - along(b));
  const plane = rows * cols;
  const hu = new Int16Array(plane * slices.length);
  slices.forEach((ds, z) => {
    const slope = numbers(ds, 'RescaleSlope')[0] ?? 1;
    const intercept = numbers(ds, 'RescaleIntercept')[0] ?? 0;
    const signed = dicom.uint16Of(dicom.find(ds, tag('PixelRepresentation'))) === 1;
    const px = dicom.find(ds, tag('PixelData'))!.value!;
    const view = new DataView(px.buffer, px.byteOffset, px.byteLength);
    for (let i = 0; i < plane; i++) {
      const raw = signed ? view.getInt16(i * 2, true) : view.getUint16(i * 2, true);
      hu[z * plane + i] = Math.max(-32768, Math.min(32767, Math.round(raw * slope + intercept)));
    }
  });
  const positions = slices.map((ds) => numbers(ds, 'ImagePositionPatient'));
  const sliceSpacing = Math.abs(along(slices[1]) - along(slices[0]));
  return {
    dims: [cols, rows, slices.length],
    spacing: [colSpacing, rowSpacing, sliceSpacing],
    origin: positions[0] as [number, number, number],
    rowDirection: row,
    columnDirection: col,
    sliceDirection: normal,
    hu,
  };
}

/** TotalSegmentator's labels on the DICOM grid ([slice][row][col], inferior → superior). */
export function loadReferenceLabels(): Uint8Array {
  return gunzipSync(readFileSync(`${ROOT}reference/seg_total_fast_on_dicom_grid.u8.raw.gz`));
}

/** The reference's bone label ids (labels_total.json's bone subset, costal cartilage excluded). */
export function referenceBoneIds(): number[] {
  const json = JSON.parse(readFileSync(`${ROOT}reference/labels_total.json`, 'utf8')) as { bone_labels: Record<string, string> };
  return Object.entries(json.bone_labels)
    .filter(([, name]) => name !== 'costal_cartilages')
    .map(([id]) => Number(id));
}
