/** Frames of an instance as pydicom reads them: the independent answer WADO-RS frames are checked against. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SCRIPT = String.raw`
import base64, json, sys
import numpy as np
import pydicom
from pydicom.encaps import generate_pixel_data_frame
out = []
for job in json.loads(sys.argv[1]):
    ds = pydicom.dcmread(job['path'])
    n = int(ds.get('NumberOfFrames', 1) or 1)
    mode = job['mode']
    if mode == 'encapsulated':
        frames = list(generate_pixel_data_frame(ds.PixelData, n))
    elif mode == 'native' and ds.BitsAllocated == 1:
        arr = ds.pixel_array.reshape(n, -1)
        frames = [np.packbits(f, bitorder='little').tobytes() for f in arr]
    elif mode == 'native':
        size = ds.Rows * ds.Columns * ds.SamplesPerPixel * ds.BitsAllocated // 8
        frames = [ds.PixelData[k * size:(k + 1) * size] for k in range(n)]
    else:  # decoded: pixel_array as little-endian bytes, frame by frame
        arr = ds.pixel_array.reshape(n, -1)
        frames = [f.astype(f.dtype.newbyteorder('<')).tobytes() for f in arr]
    out.append({'transferSyntax': str(ds.file_meta.TransferSyntaxUID), 'frames': [base64.b64encode(f).decode() for f in frames]})
print(json.dumps(out))
`;

export type PixelMode = 'native' | 'encapsulated' | 'decoded';

/** Each instance's frames (and transfer syntax) as pydicom gives them in `mode`. */
export function pydicomFrames(jobs: Array<{ bytes: Uint8Array; mode: PixelMode }>): Array<{ transferSyntax: string; frames: Buffer[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'limen-pypix-'));
  try {
    const spec = jobs.map((j, i) => {
      const path = join(dir, `${i}.dcm`);
      writeFileSync(path, j.bytes);
      return { path, mode: j.mode };
    });
    const raw = execFileSync('/usr/bin/python3', ['-c', SCRIPT, JSON.stringify(spec)], { maxBuffer: 1 << 28 }).toString();
    return (JSON.parse(raw) as Array<{ transferSyntax: string; frames: string[] }>).map((r) => ({ transferSyntax: r.transferSyntax, frames: r.frames.map((f) => Buffer.from(f, 'base64')) }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
