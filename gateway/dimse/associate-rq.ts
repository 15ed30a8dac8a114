/**
 * What the DIMSE library does not check in an A-ASSOCIATE-RQ (PS3.8 §9.3.2): the protocol
 * version and the application context name. Pure: the PDU's bytes in, a refusal or nothing out.
 */
import { PDU_HEADER_LENGTH } from './pdu.js';

/** The DICOM Application Context Name (PS3.7 Annex A.2.1), the only one there is. */
export const DICOM_APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';

const APPLICATION_CONTEXT_ITEM = 0x10;
/** Protocol version (2), reserved (2), called AE (16), calling AE (16), reserved (32). */
const VARIABLE_ITEMS_OFFSET = PDU_HEADER_LENGTH + 68;

export type AssociateRqRefusal = 'protocol-version-not-supported' | 'application-context-not-supported';

/**
 * Checks a whole A-ASSOCIATE-RQ PDU (header included). PS3.8 §9.3.2: a receiver implementing
 * only version 1 tests that bit 0 of the protocol version is set, nothing else; the application
 * context item must name the DICOM application context.
 */
export function checkAssociateRq(pdu: Uint8Array): AssociateRqRefusal | undefined {
  if (pdu.length < VARIABLE_ITEMS_OFFSET) return undefined; // the library refuses what it cannot read
  const view = new DataView(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  if ((view.getUint16(PDU_HEADER_LENGTH) & 1) === 0) return 'protocol-version-not-supported';
  for (let at = VARIABLE_ITEMS_OFFSET; at + 4 <= pdu.length; ) {
    const length = view.getUint16(at + 2);
    if (pdu[at] === APPLICATION_CONTEXT_ITEM) {
      const name = new TextDecoder('latin1').decode(pdu.subarray(at + 4, at + 4 + length)).replace(/[\0 ]+$/, '');
      return name === DICOM_APPLICATION_CONTEXT ? undefined : 'application-context-not-supported';
    }
    at += 4 + length;
  }
  return 'application-context-not-supported';
}
