/**
 * The character set of the text the SEG writes. Attributes copied byte for byte from the source
 * keep their SpecificCharacterSet, so the SEG's own text (labels, names) must fit in it: ASCII
 * fits everywhere; Latin-1 stays Latin-1 when the source declared ISO_IR 100; anything else makes
 * the SEG UTF-8 (ISO_IR 192), and the attributes it copies are then transcoded into it.
 */

/** How the SEG's text is encoded, and the SpecificCharacterSet to declare (absent: none). */
export interface TextEncoding {
  specificCharacterSet?: string;
  encode(text: string): Uint8Array;
}

const utf8 = new TextEncoder();

const isAscii = (s: string): boolean => /^[\x00-\x7f]*$/.test(s);

function latin1(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Chooses the encoding for `texts`, given the character set the copied attributes declare. */
export function chooseEncoding(declared: string | undefined, texts: Iterable<string>): TextEncoding {
  const all = [...texts];
  const keep = declared === undefined || declared === '' ? undefined : declared;
  if (all.every(isAscii)) return { specificCharacterSet: keep, encode: (t) => utf8.encode(t) };
  if (keep === undefined || keep === 'ISO_IR 192') return { specificCharacterSet: 'ISO_IR 192', encode: (t) => utf8.encode(t) };
  if (keep === 'ISO_IR 100' && all.every((t) => /^[\x00-\xff]*$/.test(t))) return { specificCharacterSet: keep, encode: latin1 };
  // Limen's own text does not fit the source's set: the SEG is written in UTF-8, and the values it
  // copies from the source are transcoded into it (see `patientStudyElements`).
  return { specificCharacterSet: 'ISO_IR 192', encode: (t) => utf8.encode(t) };
}

const utf8Decoder = new TextDecoder('utf-8');
const latin1Decoder = new TextDecoder('latin1');

/** Decodes a text value read from a SEG (UTF-8 when declared, else Latin-1, which covers ASCII). */
export function decodeText(value: Uint8Array | undefined, specificCharacterSet: string | undefined): string {
  if (!value) return '';
  const text = specificCharacterSet?.includes('ISO_IR 192') ? utf8Decoder.decode(value) : latin1Decoder.decode(value);
  return text.replace(/[\0 ]+$/, '');
}
