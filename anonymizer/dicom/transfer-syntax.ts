/** Transfer syntaxes the reader understands (PS3.5 §10, PS3.6 Table A-1). */

export interface TransferSyntax {
  uid: string;
  name: string;
  explicitVR: boolean;
  littleEndian: boolean;
  /** The dataset after the file meta is deflated (RFC 1951). */
  deflated: boolean;
  /** Pixel data is encapsulated (compressed) and is kept as it is. */
  encapsulated: boolean;
}

export const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
export const EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
export const DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2.1.99';
export const EXPLICIT_VR_BIG_ENDIAN = '1.2.840.10008.1.2.2';

const native = (uid: string, name: string, explicitVR: boolean, littleEndian: boolean, deflated = false): TransferSyntax =>
  ({ uid, name, explicitVR, littleEndian, deflated, encapsulated: false });
const encapsulated = (uid: string, name: string): TransferSyntax =>
  ({ uid, name, explicitVR: true, littleEndian: true, deflated: false, encapsulated: true });

const KNOWN: TransferSyntax[] = [
  native(IMPLICIT_VR_LITTLE_ENDIAN, 'Implicit VR Little Endian', false, true),
  native(EXPLICIT_VR_LITTLE_ENDIAN, 'Explicit VR Little Endian', true, true),
  native(DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, 'Deflated Explicit VR Little Endian', true, true, true),
  native(EXPLICIT_VR_BIG_ENDIAN, 'Explicit VR Big Endian', true, false),
  encapsulated('1.2.840.10008.1.2.4.50', 'JPEG Baseline (Process 1)'),
  encapsulated('1.2.840.10008.1.2.4.51', 'JPEG Extended (Process 2 & 4)'),
  encapsulated('1.2.840.10008.1.2.4.57', 'JPEG Lossless, Non-Hierarchical (Process 14)'),
  encapsulated('1.2.840.10008.1.2.4.70', 'JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [SV1])'),
  encapsulated('1.2.840.10008.1.2.4.80', 'JPEG-LS Lossless'),
  encapsulated('1.2.840.10008.1.2.4.81', 'JPEG-LS Lossy (Near-Lossless)'),
  encapsulated('1.2.840.10008.1.2.4.90', 'JPEG 2000 (Lossless Only)'),
  encapsulated('1.2.840.10008.1.2.4.91', 'JPEG 2000'),
  encapsulated('1.2.840.10008.1.2.4.92', 'JPEG 2000 Part 2 Multi-component (Lossless Only)'),
  encapsulated('1.2.840.10008.1.2.4.93', 'JPEG 2000 Part 2 Multi-component'),
  encapsulated('1.2.840.10008.1.2.4.201', 'High-Throughput JPEG 2000 (Lossless Only)'),
  encapsulated('1.2.840.10008.1.2.4.202', 'High-Throughput JPEG 2000 with RPCL Options (Lossless Only)'),
  encapsulated('1.2.840.10008.1.2.4.203', 'High-Throughput JPEG 2000'),
  encapsulated('1.2.840.10008.1.2.5', 'RLE Lossless'),
  encapsulated('1.2.840.10008.1.2.4.100', 'MPEG2 Main Profile / Main Level'),
  encapsulated('1.2.840.10008.1.2.4.102', 'MPEG-4 AVC/H.264 High Profile / Level 4.1'),
  encapsulated('1.2.840.10008.1.2.4.110', 'JPEG XL Lossless'),
  encapsulated('1.2.840.10008.1.2.4.112', 'JPEG XL'),
];

const BY_UID = new Map(KNOWN.map((ts) => [ts.uid, ts]));

/** The transfer syntax with this UID, or undefined when Limen does not know it. */
export const transferSyntax = (uid: string): TransferSyntax | undefined => BY_UID.get(uid);

/** Every transfer syntax the reader accepts, for association negotiation. */
export const KNOWN_TRANSFER_SYNTAXES: readonly TransferSyntax[] = KNOWN;
