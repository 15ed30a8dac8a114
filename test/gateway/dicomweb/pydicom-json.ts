/**
 * pydicom's DICOM JSON (`Dataset.to_json_dict()`, an independent implementation of PS3.18 Annex
 * F) and a comparison with Limen's that knows where the two may legitimately differ.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JsonDataset } from '../../../gateway/dicomweb/index.js';

const SCRIPT = `
import json, sys, pydicom
out = []
for p in sys.argv[1:]:
    out.append(pydicom.dcmread(p).to_json_dict(bulk_data_threshold=10**12))
print(json.dumps(out))
`;

/** pydicom's JSON of each file (every binary value inline). */
export function pydicomJson(files: readonly string[]): JsonDataset[] {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', SCRIPT, ...files], { maxBuffer: 1 << 28 }).toString()) as JsonDataset[];
}

/** pydicom's JSON of instances given as bytes. */
export function pydicomJsonOfBytes(instances: readonly Uint8Array[]): JsonDataset[] {
  const dir = mkdtempSync(join(tmpdir(), 'limen-pyjson-'));
  try {
    const files = instances.map((b, i) => {
      const f = join(dir, `${i}.dcm`);
      writeFileSync(f, b);
      return f;
    });
    return pydicomJson(files);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface CompareOptions {
  /** The bytes a BulkDataURI of Limen's JSON points to (compared with pydicom's InlineBinary). */
  bulk?: (uri: string) => Buffer;
  /** Tags (8-digit keys) left out of the comparison on both sides. */
  skip?: readonly string[];
}

/**
 * The differences between Limen's JSON and pydicom's, as readable lines; empty when they agree.
 * Tolerated: an empty value in a multi-valued attribute is `null` in Limen (Annex F.2.5) and ""
 * in pydicom; an empty sequence has no Value in Limen (F.2.5) and [] in pydicom; a private
 * attribute Limen reads as UN (pydicom types it from its private dictionary).
 */
export function compareJson(ours: JsonDataset, theirs: JsonDataset, options: CompareOptions = {}, path = ''): string[] {
  const out: string[] = [];
  const keys = new Set([...Object.keys(ours), ...Object.keys(theirs)]);
  for (const key of [...keys].sort()) {
    if (options.skip?.includes(key)) continue;
    const a = ours[key];
    const b = theirs[key];
    const at = `${path}/${key}`;
    if (!a || !b) {
      out.push(`${at}: ${a ? 'only in Limen' : 'only in pydicom'}`);
      continue;
    }
    const isPrivate = parseInt(key.slice(0, 4), 16) % 2 === 1;
    if (isPrivate && a.vr === 'UN' && b.vr !== 'UN') continue;
    if (a.vr !== b.vr) out.push(`${at}: VR ${a.vr} vs ${b.vr}`);
    if (a.BulkDataURI !== undefined) {
      if (!options.bulk) {
        out.push(`${at}: BulkDataURI with no way to fetch it`);
        continue;
      }
      const fetched = options.bulk(a.BulkDataURI);
      const inline = Buffer.from(b.InlineBinary ?? '', 'base64');
      if (!fetched.equals(inline)) out.push(`${at}: bulk data differs (${fetched.length} vs ${inline.length} bytes)`);
      continue;
    }
    if (a.InlineBinary !== b.InlineBinary) out.push(`${at}: InlineBinary differs`);
    if (a.vr === 'SQ') {
      const ia = (a.Value ?? []) as JsonDataset[];
      const ib = (b.Value ?? []) as JsonDataset[];
      if (ia.length !== ib.length) out.push(`${at}: ${ia.length} vs ${ib.length} items`);
      else ia.forEach((item, i) => out.push(...compareJson(item, ib[i], options, `${at}/${i}`)));
      continue;
    }
    const va = JSON.stringify((a.Value ?? []).map((v) => (v === null ? '' : v)));
    const vb = JSON.stringify((b.Value ?? []).map((v) => (v === null ? '' : v)));
    if (va !== vb) out.push(`${at}: ${va} vs ${vb}`);
  }
  return out;
}
