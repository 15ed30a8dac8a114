import { expect } from 'chai';
import { describeEachDatabase } from './harness.js';
import { instanceInput, rejection, studyInputs, uid } from './fixtures.js';

describeEachDatabase('storage: vault', (h) => {
  it('opens the linkage records sealed with a study, one per instance', async () => {
    const s = await h.open();
    const inputs = studyInputs(1, 3).map((i, n) => ({ ...i, linkage: { PatientName: 'Doe^Jane', n, nested: { ids: ['a', 'b'] } } }));
    for (const i of inputs) await s.storeInstance(i);
    const records = await s.vault.open(inputs[0].studyInstanceUID);
    expect(records).to.have.length(3);
    const bySop = new Map(records.map((r) => [r.sopInstanceUID, r.record]));
    for (const [n, i] of inputs.entries()) expect(bySop.get(i.sopInstanceUID)).to.deep.equal({ PatientName: 'Doe^Jane', n, nested: { ids: ['a', 'b'] } });
    expect(await s.vault.open(uid())).to.deep.equal([]);
  });

  it('seals a record for an existing study and replaces it on a second seal', async () => {
    const s = await h.open();
    const input = instanceInput();
    await s.storeInstance(input);
    const extra = uid();
    await s.vault.seal(input.studyInstanceUID, extra, { v: 1 });
    await s.vault.seal(input.studyInstanceUID, extra, { v: 2 });
    const records = await s.vault.open(input.studyInstanceUID);
    expect(records.find((r) => r.sopInstanceUID === extra)?.record).to.deep.equal({ v: 2 });
    expect(records).to.have.length(2);
    expect((await rejection(s.vault.seal(uid(), uid(), {}))).code).to.equal('not-found');
    expect((await rejection(s.vault.seal(uid(), extra, {}))).code).to.equal('uid-conflict');
  });

  it('a tampered or swapped sealed record is vault-corrupt, never a wrong record', async () => {
    const s = await h.open();
    const [a, b] = studyInputs(1, 2).map((i, n) => ({ ...i, linkage: { who: n } }));
    await s.storeInstance(a);
    await s.storeInstance(b);
    const rows = await h.sql('SELECT sop_instance_uid, sealed FROM vault_records');
    const sealedOf = (sop: string) => Buffer.from(rows.find((r) => r.sop_instance_uid === sop)!.sealed as Buffer);
    // Swapped between instances of the same study (same key): the binding to the SOP UID catches it.
    await h.sql('UPDATE vault_records SET sealed = ? WHERE sop_instance_uid = ?', [sealedOf(b.sopInstanceUID), a.sopInstanceUID]);
    const err = await rejection(s.vault.open(a.studyInstanceUID));
    expect(err.code).to.equal('vault-corrupt');
    expect(err.path).to.equal(a.sopInstanceUID);
    const flipped = sealedOf(a.sopInstanceUID);
    flipped[flipped.length - 3] ^= 0xff;
    await h.sql('UPDATE vault_records SET sealed = ? WHERE sop_instance_uid = ?', [flipped, a.sopInstanceUID]);
    expect((await rejection(s.vault.open(a.studyInstanceUID))).code).to.equal('vault-corrupt');
  });
});
