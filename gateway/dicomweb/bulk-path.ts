/**
 * Where a BulkDataURI points inside an instance: the path of tags (and item indexes, inside
 * sequences) from the top of the dataset, written into the URI after `/bulk/`.
 */
import { tagKey, type AttributePath } from './dicom-json.js';

/** `7FE00010`, or `00880200/0/7FE00010` inside a sequence: tags in hex, item indexes in decimal. */
export function bulkPath(path: AttributePath): string {
  return path.map((p, i) => (i % 2 === 0 ? tagKey(p) : String(p))).join('/');
}

/** Reads a bulk path back; null when it is not one. */
export function parseBulkPath(text: string): number[] | null {
  const parts = text.split('/');
  if (parts.length % 2 === 0) return null;
  const out: number[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 0) {
      if (!/^[0-9A-Fa-f]{8}$/.test(parts[i])) return null;
      out.push(parseInt(parts[i], 16) >>> 0);
    } else {
      if (!/^\d{1,6}$/.test(parts[i])) return null;
      out.push(Number(parts[i]));
    }
  }
  return out;
}
