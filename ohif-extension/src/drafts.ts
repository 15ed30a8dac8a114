/**
 * The reviewer's unsent comment, per study, kept in the tab's sessionStorage: it survives a sign-in
 * after the session expired and a page reload, and is dropped once the decision is recorded or the
 * reviewer signs out. It holds only the reviewer's own text (no patient data: studies are
 * pseudonymous). Without usable storage it lives in memory.
 */

/** The part of the Web Storage API used. */
export type DraftStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem' | 'key' | 'length'>;

export interface DraftStore {
  get(studyInstanceUID: string): string;
  /** Keeps the text; an empty text removes the draft. */
  set(studyInstanceUID: string, text: string): void;
  clear(studyInstanceUID: string): void;
  /** Drops every draft (on signing out). */
  clearAll(): void;
}

export const DRAFT_KEY_PREFIX = 'limen.comment.';

export function createDraftStore(storage: DraftStorage | undefined): DraftStore {
  const memory = new Map<string, string>();
  const key = (uid: string) => DRAFT_KEY_PREFIX + uid;
  // Storage may be missing or throw (quota, privacy settings): memory then holds the text.
  const attempt = <T>(f: (s: DraftStorage) => T): T | undefined => {
    if (!storage) return undefined;
    try {
      return f(storage);
    } catch {
      return undefined;
    }
  };
  return {
    get: (uid) => attempt((s) => s.getItem(key(uid))) ?? memory.get(uid) ?? '',
    set(uid, text) {
      if (text === '') return this.clear(uid);
      memory.set(uid, text);
      attempt((s) => s.setItem(key(uid), text));
    },
    clear(uid) {
      memory.delete(uid);
      attempt((s) => s.removeItem(key(uid)));
    },
    clearAll() {
      memory.clear();
      attempt((s) => {
        const keys: string[] = [];
        for (let i = 0; i < s.length; i++) {
          const k = s.key(i);
          if (k?.startsWith(DRAFT_KEY_PREFIX)) keys.push(k);
        }
        for (const k of keys) s.removeItem(k);
      });
    },
  };
}

/** The tab's sessionStorage, when the page may use it. */
export function sessionStorageOrNothing(): DraftStorage | undefined {
  try {
    return typeof sessionStorage === 'undefined' ? undefined : sessionStorage;
  } catch {
    return undefined;
  }
}
