/**
 * What the DICOMweb read side needs from storage: the de-identified index and the decrypted
 * instances, nothing else. The composition root passes the storage itself.
 */
import type { Storage } from '../../storage/index.js';

export type DicomwebReadSource = Pick<Storage, 'listStudies' | 'getStudy' | 'listInstances' | 'getInstance' | 'getInstanceBlob'>;
