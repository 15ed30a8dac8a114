import { expect } from 'chai';
import { readdirSync, readFileSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BLOB_DIR, SQLITE_FILE } from '../../storage/index.js';
import { describeEachDatabase } from './harness.js';
import { instanceInput, rejection, studyInputs } from './fixtures.js';

function blobPathOf(dataDir: string, studyInstanceUID: string): string[] {
  const dir = join(dataDir, BLOB_DIR, studyInstanceUID);
  // Spare temporary files (opened ahead of writes) are not blobs.
  return readdirSync(dir).filter((f) => f.endsWith('.blob')).map((f) => join(dir, f));
}

describeEachDatabase('storage: encryption at rest', (h) => {
  it('a blob file holds ciphertext under an authenticated header, never the instance bytes', async () => {
    const s = await h.open();
    const input = instanceInput({ bytes: Buffer.from('DICM de-identified content '.repeat(40)) });
    await s.storeInstance(input);
    const [file] = blobPathOf(h.dataDir, input.studyInstanceUID);
    const raw = readFileSync(file);
    expect(raw.subarray(0, 4).toString('ascii')).to.equal('LMNB');
    expect(raw.includes(Buffer.from('de-identified content'))).to.equal(false);
    expect(raw.length).to.equal(input.bytes.length + 20 + 16);
  });

  it('a tampered blob is reported as blob-corrupt and never returned', async () => {
    const s = await h.open();
    const input = instanceInput();
    await s.storeInstance(input);
    const [file] = blobPathOf(h.dataDir, input.studyInstanceUID);
    const original = readFileSync(file);
    for (const offset of [2, 10, 30, original.length - 1]) {
      const tampered = Buffer.from(original);
      tampered[offset] ^= 0x01;
      writeFileSync(file, tampered);
      const err = await rejection(s.getInstanceBlob(input.sopInstanceUID));
      expect(err.code, `byte ${offset}`).to.equal('blob-corrupt');
    }
    truncateSync(file, original.length - 5);
    expect((await rejection(s.getInstanceBlob(input.sopInstanceUID))).code).to.equal('blob-corrupt');
    rmSync(file);
    expect((await rejection(s.getInstanceBlob(input.sopInstanceUID))).code).to.equal('blob-missing');
  });

  it('blobs swapped between instances, or rows pointed at another blob, fail authentication', async () => {
    const s = await h.open();
    const [a, b] = studyInputs(1, 2);
    await s.storeInstance(a);
    await s.storeInstance(b);
    const rows = await h.sql('SELECT sop_instance_uid, blob_path FROM instances');
    const pathOf = (sop: string) => String(rows.find((r) => r.sop_instance_uid === sop)!.blob_path);
    const root = join(h.dataDir, BLOB_DIR);
    // Swap file contents.
    const fa = join(root, pathOf(a.sopInstanceUID));
    const fb = join(root, pathOf(b.sopInstanceUID));
    renameSync(fa, fa + '.x');
    renameSync(fb, fa);
    renameSync(fa + '.x', fb);
    expect((await rejection(s.getInstanceBlob(a.sopInstanceUID))).code).to.equal('blob-corrupt');
    expect((await rejection(s.getInstanceBlob(b.sopInstanceUID))).code).to.equal('blob-corrupt');
    // Swap back, then point a's row at b's (valid) blob.
    renameSync(fa, fa + '.x');
    renameSync(fb, fa);
    renameSync(fa + '.x', fb);
    expect((await s.getInstanceBlob(a.sopInstanceUID))!.bytes.equals(Buffer.from(a.bytes))).to.equal(true);
    await h.sql('UPDATE instances SET blob_path = ? WHERE sop_instance_uid = ?', ['x', a.sopInstanceUID]);
    await h.sql('UPDATE instances SET blob_path = ? WHERE sop_instance_uid = ?', [pathOf(a.sopInstanceUID), b.sopInstanceUID]);
    await h.sql('UPDATE instances SET blob_path = ? WHERE sop_instance_uid = ?', [pathOf(b.sopInstanceUID), a.sopInstanceUID]);
    expect((await rejection(s.getInstanceBlob(a.sopInstanceUID))).code).to.equal('blob-corrupt');
  });

  it('refuses to open the database under another master key', async () => {
    const first = await h.open();
    await first.storeInstance(instanceInput());
    await first.close();
    const err = await rejection(h.open({ masterKey: new Uint8Array(32).fill(0x01) }));
    expect(err.code).to.equal('master-key-mismatch');
  });

  it('a wrapped study key does not open under another master key, nor for another study', async () => {
    const a = instanceInput();
    const b = instanceInput();
    const first = await h.open();
    await first.storeInstance(a);
    await first.storeInstance(b);
    // Bypass the startup check to reach the per-study unwrap.
    await h.sql('DELETE FROM settings');
    await first.close();
    const wrong = await h.open({ masterKey: new Uint8Array(32).fill(0x02) });
    expect((await rejection(wrong.getInstanceBlob(a.sopInstanceUID))).code).to.equal('key-unwrap-failed');
    expect((await rejection(wrong.vault.open(a.studyInstanceUID))).code).to.equal('key-unwrap-failed');
    await wrong.close();

    await h.sql('DELETE FROM settings');
    const right = await h.open();
    const [keyA] = await h.sql('SELECT wrapped_key FROM study_keys WHERE study_instance_uid = ?', [a.studyInstanceUID]);
    await h.sql('UPDATE study_keys SET wrapped_key = ? WHERE study_instance_uid = ?', [keyA.wrapped_key, b.studyInstanceUID]);
    expect((await rejection(right.getInstanceBlob(b.sopInstanceUID))).code).to.equal('key-unwrap-failed');
    expect((await right.getInstanceBlob(a.sopInstanceUID))!.bytes.equals(Buffer.from(a.bytes))).to.equal(true);
  });

  it('destroying a study key makes its blobs and vault unreadable for good, and only its own', async () => {
    const s = await h.open();
    const doomed = studyInputs(1, 2);
    const other = instanceInput();
    for (const i of [...doomed, other]) await s.storeInstance(i);
    const [wrapped] = await h.sql('SELECT wrapped_key FROM study_keys WHERE study_instance_uid = ?', [doomed[0].studyInstanceUID]);

    expect(await s.destroyStudyKey(doomed[0].studyInstanceUID)).to.equal(true);
    expect(await s.destroyStudyKey(doomed[0].studyInstanceUID)).to.equal(false);
    for (const i of doomed) expect((await rejection(s.getInstanceBlob(i.sopInstanceUID))).code).to.equal('study-key-destroyed');
    expect((await rejection(s.vault.open(doomed[0].studyInstanceUID))).code).to.equal('study-key-destroyed');
    const late = instanceInput({ studyInstanceUID: doomed[0].studyInstanceUID, seriesInstanceUID: doomed[0].seriesInstanceUID });
    expect((await rejection(s.storeInstance(late))).code).to.equal('study-key-destroyed');

    expect((await s.getInstanceBlob(other.sopInstanceUID))!.bytes.equals(Buffer.from(other.bytes))).to.equal(true);
    expect(await s.vault.open(other.studyInstanceUID)).to.have.length(1);

    if (h.dialect === 'sqlite') {
      // Secure delete and a truncating checkpoint: the wrapped key is in neither file any more.
      const needle = Buffer.from(wrapped.wrapped_key as Buffer);
      for (const f of readdirSync(h.dataDir).filter((n) => n.startsWith(SQLITE_FILE))) {
        expect(readFileSync(join(h.dataDir, f)).includes(needle), f).to.equal(false);
      }
    }
  });
});
