/**
 * The reviewer's unsent comment (ohif-extension/src/drafts.ts): kept per study in sessionStorage
 * so an expired session or a reload does not lose it, dropped on sign-out.
 */
import { expect } from 'chai';
import { createDraftStore, DRAFT_KEY_PREFIX, type DraftStorage } from '../../ohif-extension/src/drafts.js';

/** An in-memory Web Storage. */
function memoryStorage(): DraftStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, String(v)),
    removeItem: (k) => void map.delete(k),
    key: (i) => [...map.keys()][i] ?? null,
    get length() {
      return map.size;
    },
  };
}

describe('ohif-extension: comment drafts', () => {
  it('keeps the comment across a new page (a sign-in after the session expired)', () => {
    const storage = memoryStorage();
    createDraftStore(storage).set('2.25.1', 'Liver boundary checked');
    // The page after sign-in builds a new store over the same sessionStorage.
    expect(createDraftStore(storage).get('2.25.1')).to.equal('Liver boundary checked');
    expect(createDraftStore(storage).get('2.25.2')).to.equal('');
  });

  it('drops a draft once decided, and every draft on sign-out (only Limen keys)', () => {
    const storage = memoryStorage();
    storage.setItem('other-app', 'x');
    const drafts = createDraftStore(storage);
    drafts.set('2.25.1', 'a');
    drafts.set('2.25.2', 'b');
    drafts.clear('2.25.1');
    expect(drafts.get('2.25.1')).to.equal('');
    drafts.set('2.25.3', '');
    expect([...storage.map.keys()]).to.deep.equal(['other-app', `${DRAFT_KEY_PREFIX}2.25.2`]);
    drafts.clearAll();
    expect([...storage.map.keys()]).to.deep.equal(['other-app']);
    expect(drafts.get('2.25.2')).to.equal('');
  });

  it('works in memory when storage is missing or refuses', () => {
    const refusing: DraftStorage = {
      getItem: () => {
        throw new Error('SecurityError');
      },
      setItem: () => {
        throw new Error('QuotaExceededError');
      },
      removeItem: () => undefined,
      key: () => null,
      length: 0,
    };
    for (const storage of [undefined, refusing]) {
      const drafts = createDraftStore(storage);
      drafts.set('2.25.1', 'kept');
      expect(drafts.get('2.25.1')).to.equal('kept');
    }
  });
});
