/**
 * DIMSE command sets (PS3.7 §9.3, §E): group 0000, always Implicit VR Little Endian. Limen reads
 * the few fields a C-STORE or C-ECHO request carries and writes their responses itself: the
 * command set is a dozen fixed elements, and going through a general DICOM library for it
 * cost more than storing the instance.
 */

/** Command Field values (PS3.7 Table E.1-1). Responses are the request's value with bit 15 set. */
export const CommandField = {
  CStoreRQ: 0x0001,
  CEchoRQ: 0x0030,
  CCancelRQ: 0x0fff,
  ResponseBit: 0x8000,
} as const;

/** Command Data Set Type (0000,0800): this value means no data set follows. */
export const NO_DATA_SET = 0x0101;

/** Status (0000,0900) for a request this node does not perform (PS3.7 Annex C.4.2). */
export const STATUS_UNRECOGNIZED_OPERATION = 0x0211;

const TAG = {
  CommandGroupLength: 0x00000000,
  AffectedSOPClassUID: 0x00000002,
  CommandField: 0x00000100,
  MessageID: 0x00000110,
  MessageIDBeingRespondedTo: 0x00000120,
  Priority: 0x00000700,
  CommandDataSetType: 0x00000800,
  Status: 0x00000900,
  ErrorComment: 0x00000902,
  AffectedSOPInstanceUID: 0x00001000,
} as const;

/** What Limen needs of a request's command set. */
export interface DimseRequest {
  commandField: number;
  messageID: number;
  affectedSOPClassUID?: string;
  affectedSOPInstanceUID?: string;
  /** False when Command Data Set Type is 0101H. */
  hasDataSet: boolean;
}

export class CommandSetError extends Error {
  override readonly name = 'CommandSetError';
}

/** Reads a request's command set; throws `CommandSetError` when it is not one. */
export function parseRequest(bytes: Uint8Array): DimseRequest {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Map<number, Uint8Array>();
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 8 > bytes.length) throw new CommandSetError('the command set ends inside an element header');
    const tag = ((view.getUint16(offset, true) << 16) | view.getUint16(offset + 2, true)) >>> 0;
    const length = view.getUint32(offset + 4, true);
    offset += 8;
    if (tag >>> 16 !== 0) throw new CommandSetError(`element (${hex4(tag >>> 16)},${hex4(tag & 0xffff)}) is not in the command group`);
    if (length > bytes.length - offset) throw new CommandSetError('an element of the command set runs past its end');
    values.set(tag, bytes.subarray(offset, offset + length));
    offset += length;
  }
  const us = (tag: number): number | undefined => {
    const v = values.get(tag);
    return v && v.length === 2 ? v[0] | (v[1] << 8) : undefined;
  };
  const uid = (tag: number): string | undefined => {
    const v = values.get(tag);
    return v === undefined ? undefined : Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1').replace(/[\0 ]+$/, '');
  };
  const commandField = us(TAG.CommandField);
  if (commandField === undefined) throw new CommandSetError('the command set has no Command Field (0000,0100)');
  const messageID = us(TAG.MessageID);
  if (messageID === undefined && commandField !== CommandField.CCancelRQ && !(commandField & CommandField.ResponseBit)) throw new CommandSetError('the command set has no Message ID (0000,0110)');
  const dataSetType = us(TAG.CommandDataSetType);
  if (dataSetType === undefined) throw new CommandSetError('the command set has no Command Data Set Type (0000,0800)');
  return {
    commandField,
    messageID: messageID ?? us(TAG.MessageIDBeingRespondedTo) ?? 0,
    affectedSOPClassUID: uid(TAG.AffectedSOPClassUID),
    affectedSOPInstanceUID: uid(TAG.AffectedSOPInstanceUID),
    hasDataSet: dataSetType !== NO_DATA_SET,
  };
}

/** A response to `request`, without a data set. */
export interface DimseResponse {
  status: number;
  /** LO, already made valid (see `toErrorComment`). */
  errorComment?: string;
}

/** Encodes the response command set to `request` (Implicit VR Little Endian, group length first). */
export function encodeResponse(request: DimseRequest, response: DimseResponse): Buffer {
  const elements: Array<[number, Buffer]> = [];
  if (request.affectedSOPClassUID !== undefined) elements.push([TAG.AffectedSOPClassUID, uidValue(request.affectedSOPClassUID)]);
  elements.push([TAG.CommandField, us((request.commandField | CommandField.ResponseBit) & 0xffff)]);
  elements.push([TAG.MessageIDBeingRespondedTo, us(request.messageID)]);
  elements.push([TAG.CommandDataSetType, us(NO_DATA_SET)]);
  elements.push([TAG.Status, us(response.status)]);
  if (response.errorComment) elements.push([TAG.ErrorComment, evenPadded(Buffer.from(response.errorComment, 'latin1'), 0x20)]);
  if (request.affectedSOPInstanceUID !== undefined) elements.push([TAG.AffectedSOPInstanceUID, uidValue(request.affectedSOPInstanceUID)]);
  const groupLength = elements.reduce((n, [, v]) => n + 8 + v.length, 0);
  const out = Buffer.alloc(12 + groupLength);
  let offset = writeElement(out, 0, TAG.CommandGroupLength, ul(groupLength));
  for (const [tag, value] of elements) offset = writeElement(out, offset, tag, value);
  return out;
}

function writeElement(out: Buffer, offset: number, tag: number, value: Buffer): number {
  out.writeUInt16LE(tag >>> 16, offset);
  out.writeUInt16LE(tag & 0xffff, offset + 2);
  out.writeUInt32LE(value.length, offset + 4);
  value.copy(out, offset + 8);
  return offset + 8 + value.length;
}

const us = (v: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(v);
  return b;
};
const ul = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
};
const uidValue = (uid: string): Buffer => evenPadded(Buffer.from(uid, 'latin1'), 0);
const evenPadded = (b: Buffer, pad: number): Buffer => (b.length % 2 === 0 ? b : Buffer.concat([b, Buffer.from([pad])]));
const hex4 = (v: number): string => v.toString(16).toUpperCase().padStart(4, '0');
