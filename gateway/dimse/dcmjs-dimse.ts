/**
 * The one place dcmjs-dimse is imported. It is a CommonJS bundle, so only its default
 * export exists at run time in ESM.
 */
import dimse from 'dcmjs-dimse';

export const { Scp, Client, Dataset, Implementation } = dimse;
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

/**
 * dcmjs-dimse logs every PDU to the console through its own process-wide logger. Limen
 * logs through its own structured logger, so the library's is silenced.
 */
export function silenceDimseLog(): void {
  dimse.log.setLevel('silent');
}
