/**
 * A small observable value shared by the extension's panels and its on-screen notice (the review
 * of the study on screen). One per extension instance, passed in; nothing global.
 */
export interface Store<T> {
  get(): T;
  set(update: Partial<T>): void;
  subscribe(listener: () => void): () => void;
}

export function createStore<T extends object>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => value,
    set(update) {
      value = { ...value, ...update };
      for (const l of [...listeners]) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
