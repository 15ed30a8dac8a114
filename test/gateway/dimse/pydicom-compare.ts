/**
 * An independent check that two Part 10 files hold the same data set whatever their transfer
 * syntaxes: pydicom reads both, and every element is compared by tag and by its value as pydicom
 * encodes it (items of sequences element by element). Group lengths (gggg,0000) are ignored: they count header
 * bytes, not content.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dicom } from '../../../anonymizer/index.js';

const SCRIPT = `
import json, sys
import pydicom
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element
from pydicom.sequence import Sequence

def encoded(elem):
    # The value as pydicom writes it in Implicit VR Little Endian, without the 8-byte header: the
    # same bytes whatever VR the element was read with (a private element is UN after implicit VR).
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = True
    write_data_element(fp, elem)
    return fp.getvalue()[8:]

def compare(a, b, path, out, counts):
    ta = [t for t in a.keys() if t.element != 0]
    tb = [t for t in b.keys() if t.element != 0]
    for t in sorted(set(ta) ^ set(tb)):
        out.append('%s%s: only in the %s' % (path, t, 'original' if t in ta else 'converted'))
    for t in sorted(set(ta) & set(tb)):
        ea, eb = a[t], b[t]
        where = '%s%s' % (path, t)
        if ea.VR == 'SQ' or isinstance(ea.value, Sequence):
            if not isinstance(eb.value, Sequence):
                out.append('%s: a sequence in the original, %s in the converted' % (where, eb.VR))
                continue
            if len(ea.value) != len(eb.value):
                out.append('%s: %d items, %d converted' % (where, len(ea.value), len(eb.value)))
                continue
            counts['sequences'] += 1
            for i, (ia, ib) in enumerate(zip(ea.value, eb.value)):
                compare(ia, ib, '%s[%d].' % (where, i), out, counts)
        else:
            counts['elements'] += 1
            va, vb = encoded(ea), encoded(eb)
            if va != vb:
                out.append('%s: value differs (%d bytes, %d converted)' % (where, len(va), len(vb)))

a = pydicom.dcmread(sys.argv[1])
b = pydicom.dcmread(sys.argv[2])
out = []
counts = {'elements': 0, 'sequences': 0}
compare(a, b, '', out, counts)
print(json.dumps({'differences': out, 'counts': counts,
    'transferSyntaxes': [str(a.file_meta.TransferSyntaxUID), str(b.file_meta.TransferSyntaxUID)],
    'implicit': [a.is_implicit_VR if hasattr(a, 'is_implicit_VR') else None, b.is_implicit_VR if hasattr(b, 'is_implicit_VR') else None]}))
`;

export interface PydicomComparison {
  /** Empty when every element matches. */
  differences: string[];
  /** How many value elements and sequences were compared. */
  counts: { elements: number; sequences: number };
  transferSyntaxes: [string, string];
}

/** Compares the data sets of two Part 10 files with pydicom (/usr/bin/python3). */
export function comparePart10WithPydicom(original: string, converted: string): PydicomComparison {
  return JSON.parse(execFileSync('/usr/bin/python3', ['-c', SCRIPT, original, converted], { maxBuffer: 1 << 28 }).toString()) as PydicomComparison;
}

/** Writes a bare data set as a Part 10 file with a fresh file meta group naming its transfer syntax. */
export function writeBareDataSet(path: string, dataSet: Uint8Array, meta: { sopClassUID: string; sopInstanceUID: string; transferSyntaxUID: string }): void {
  const head = dicom.writePart10(
    {
      mediaStorageSOPClassUID: meta.sopClassUID,
      mediaStorageSOPInstanceUID: meta.sopInstanceUID,
      transferSyntaxUID: meta.transferSyntaxUID,
      implementationClassUID: '1.2.3.4',
      implementationVersionName: 'TEST',
    },
    [],
  );
  writeFileSync(path, Buffer.concat([head, dataSet]));
}
