import { expect } from 'chai';
import dimse from 'dcmjs-dimse';
import { silenceDimseLog } from '../../../gateway/dimse/dcmjs-dimse.js';

describe('gateway/dimse dcmjs-dimse adapter', () => {
  it('silenced, the library formats an association by its AE titles, not by every presentation context', () => {
    const association = new dimse.association.Association('STORESCU', 'LIMEN');
    const storageClasses = Object.values(dimse.constants.StorageClass);
    const { ExplicitVRLittleEndian, ImplicitVRLittleEndian } = dimse.constants.TransferSyntax;
    for (const sopClass of storageClasses) {
      const id = association.addPresentationContext(sopClass);
      association.addTransferSyntaxToPresentationContext(id, ExplicitVRLittleEndian);
      association.addTransferSyntaxToPresentationContext(id, ImplicitVRLittleEndian);
    }

    silenceDimseLog();
    expect(association.toString()).to.equal('association STORESCU -> LIMEN');
    // Only the text changed: the association still carries its contexts.
    expect(association.getPresentationContexts()).to.have.length(storageClasses.length);
  });
});
