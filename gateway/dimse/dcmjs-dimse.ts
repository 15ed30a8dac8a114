/**
 * The one place dcmjs-dimse is imported. It is a CommonJS bundle, so only its default
 * export exists at run time in ESM.
 */
import dimse from 'dcmjs-dimse';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION_NAME } from '../../anonymizer/index.js';

// Associations Limen accepts or requests name Limen (PS3.7 D.3.3.2), as its Part 10 files do,
// not the library's defaults.
dimse.Implementation.setImplementationClassUid(IMPLEMENTATION_CLASS_UID);
dimse.Implementation.setImplementationVersion(IMPLEMENTATION_VERSION_NAME);

export const { Scp, Client, Dataset } = dimse;
export const { CEchoResponse, CStoreResponse } = dimse.responses;
export const { CStoreRequest } = dimse.requests;
export const { PresentationContext } = dimse.association;

export type Scp = InstanceType<typeof Scp>;
export type Dataset = InstanceType<typeof Dataset>;
export type CStoreRequest = InstanceType<typeof CStoreRequest>;
export type CStoreResponse = InstanceType<typeof CStoreResponse>;
export type CEchoRequest = InstanceType<typeof dimse.requests.CEchoRequest>;
export type CEchoResponse = InstanceType<typeof CEchoResponse>;
export type Association = InstanceType<typeof dimse.association.Association>;
export type PresentationContext = InstanceType<typeof PresentationContext>;

const { Association } = dimse.association;

/**
 * Reading an A-ASSOCIATE-RQ, dcmjs-dimse adds each presentation context under the ID the
 * requestor gave it, but `addPresentationContext` moves a given ID past the largest one held
 * so far: a request whose IDs are not ascending (3, then 1) had its contexts renumbered, and
 * the transfer syntaxes that followed no longer found theirs, so the association was aborted.
 * PS3.8 9.3.2.2 asks only for odd, distinct IDs. A given ID not yet held is kept as it is; the
 * library's own numbering (no ID given, or one already held) is left alone. An ID the requestor
 * repeats (two items, or two Abstract Syntax sub-items in one) would be renumbered here to one it
 * never proposed, and answered under it in the A-ASSOCIATE-AC (PS3.8 9.3.3.2 wants the request's
 * IDs): `checkAssociateRq` refuses such a request, and an even ID, before anything is answered.
 */
const addPresentationContext = Association.prototype.addPresentationContext;
Association.prototype.addPresentationContext = function (this: Association, abstractSyntaxUid: string, pcId?: number): number {
  const contexts = this.getPresentationContexts() as Array<{ id: number; context: PresentationContext }>;
  if (pcId === undefined || contexts.some((c) => c.id === pcId)) return addPresentationContext.call(this, abstractSyntaxUid, pcId);
  contexts.push({ id: pcId, context: new PresentationContext(pcId, abstractSyntaxUid) });
  return pcId;
};

/** Names an association by its AE titles only (what `silenceDimseLog` leaves the library to format). */
function associationTitles(this: Association): string {
  return `association ${this.getCallingAeTitle()} -> ${this.getCalledAeTitle()}`;
}

/**
 * dcmjs-dimse logs every PDU to the console through its own process-wide logger. Limen
 * logs through its own structured logger, so the library's is silenced.
 *
 * The library still formats each negotiated association for that log before the level is
 * checked: every presentation context and transfer syntax, each UID looked up by name in a
 * table rebuilt per lookup. For the contexts a storescu proposes that was about a millisecond per
 * association warm and over ten in a fresh process, twice per association (request and accept),
 * for a text nobody reads; a sender that opens an association per instance paid it
 * per instance. Silenced, the association formats as its AE titles.
 */
export function silenceDimseLog(): void {
  dimse.log.setLevel('silent');
  Association.prototype.toString = associationTitles;
}
