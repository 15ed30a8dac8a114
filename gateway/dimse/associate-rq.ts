/**
 * What the DIMSE library does not check in an A-ASSOCIATE-RQ (PS3.8 §9.3.2): the protocol
 * version, the application context name, the presentation context IDs and the Maximum Length
 * sub-item. Pure: the PDU's bytes in, a refusal or nothing out.
 */
import { PDU_HEADER_LENGTH } from './pdu.js';

/** The DICOM Application Context Name (PS3.7 Annex A.2.1), the only one there is. */
export const DICOM_APPLICATION_CONTEXT = '1.2.840.10008.3.1.1.1';

const APPLICATION_CONTEXT_ITEM = 0x10;
const PRESENTATION_CONTEXT_ITEM = 0x20;
const ABSTRACT_SYNTAX_SUB_ITEM = 0x30;
const USER_INFORMATION_ITEM = 0x50;
const MAXIMUM_LENGTH_SUB_ITEM = 0x51;
/** Protocol version (2), reserved (2), called AE (16), calling AE (16), reserved (32). */
const VARIABLE_ITEMS_OFFSET = PDU_HEADER_LENGTH + 68;

export type AssociateRqRefusal =
  | 'protocol-version-not-supported'
  | 'application-context-not-supported'
  /** No presentation context item (PS3.8 §9.3.2: one or more). */
  | 'no-presentation-context'
  /** A presentation context ID that is even (PS3.8 §9.3.2.2: odd integers 1 to 255). */
  | 'presentation-context-id-invalid'
  /** Two presentation contexts with the same ID (PS3.8 §9.3.2.2, §9.3.3.2: the AC answers each under its ID). */
  | 'presentation-context-id-duplicated'
  /** A presentation context item without exactly one Abstract Syntax sub-item (PS3.8 §9.3.2.2). */
  | 'abstract-syntax-not-one'
  /** No User Information item, or none with a Maximum Length sub-item (PS3.8 §9.3.2.3, PS3.7 D.3.3.1: required). */
  | 'maximum-length-missing';

/**
 * Checks a whole A-ASSOCIATE-RQ PDU (header included), in one pass over its variable items.
 * PS3.8 §9.3.2: a receiver implementing only version 1 tests that bit 0 of the protocol
 * version is set, nothing else; the application context item must name the DICOM application
 * context; one or more presentation context items follow, each with its own odd ID and one
 * Abstract Syntax sub-item; the User Information item carries the Maximum Length sub-item
 * (PS3.7 D.3.3.1: "This notification is required"). A request with several faults gets the
 * first reason in that order.
 */
export function checkAssociateRq(pdu: Uint8Array): AssociateRqRefusal | undefined {
  if (pdu.length < VARIABLE_ITEMS_OFFSET) return undefined; // the library refuses what it cannot read
  const view = new DataView(pdu.buffer, pdu.byteOffset, pdu.byteLength);
  if ((view.getUint16(PDU_HEADER_LENGTH) & 1) === 0) return 'protocol-version-not-supported';
  let applicationContext: boolean | undefined;
  let contexts = 0;
  let idFault: AssociateRqRefusal | undefined;
  /** One bit per context ID seen (IDs are one byte). */
  const seen = new Uint32Array(8);
  let maximumLength = false;
  for (let at = VARIABLE_ITEMS_OFFSET; at + 4 <= pdu.length; ) {
    const type = pdu[at];
    const length = view.getUint16(at + 2);
    const end = Math.min(at + 4 + length, pdu.length);
    if (type === APPLICATION_CONTEXT_ITEM && applicationContext === undefined) {
      const name = new TextDecoder('latin1').decode(pdu.subarray(at + 4, end)).replace(/[\0 ]+$/, '');
      applicationContext = name === DICOM_APPLICATION_CONTEXT;
    } else if (type === PRESENTATION_CONTEXT_ITEM && at + 4 < end) {
      contexts++;
      const id = pdu[at + 4];
      if (idFault === undefined) {
        if ((id & 1) === 0) idFault = 'presentation-context-id-invalid';
        else if (seen[id >>> 5] & (1 << (id & 31))) idFault = 'presentation-context-id-duplicated';
        else seen[id >>> 5] |= 1 << (id & 31);
      }
      // The library reads a second Abstract Syntax sub-item as a context of its own, under an ID the
      // requestor never proposed, and a context without one it either fails on or leaves unanswered.
      let abstractSyntaxes = 0;
      for (let sub = at + 8; sub + 4 <= end; sub += 4 + view.getUint16(sub + 2)) if (pdu[sub] === ABSTRACT_SYNTAX_SUB_ITEM) abstractSyntaxes++;
      if (idFault === undefined && abstractSyntaxes !== 1) idFault = 'abstract-syntax-not-one';
    } else if (type === USER_INFORMATION_ITEM) {
      for (let sub = at + 4; sub + 4 <= end; sub += 4 + view.getUint16(sub + 2)) {
        // Its value is a 4-byte unsigned number: a sub-item of another length is no Maximum Length.
        if (pdu[sub] === MAXIMUM_LENGTH_SUB_ITEM && view.getUint16(sub + 2) === 4 && sub + 8 <= end) maximumLength = true;
      }
    }
    at += 4 + length;
  }
  if (applicationContext !== true) return 'application-context-not-supported';
  if (contexts === 0) return 'no-presentation-context';
  if (idFault) return idFault;
  if (!maximumLength) return 'maximum-length-missing';
  return undefined;
}
