/**
 * The AI notice over the images: a banner at the top of the viewport area while the study on
 * screen has an AI result, so it stays visible whichever panel is open. Plain DOM; it lets
 * clicks through to the viewport.
 */
import { AI_NOTICE } from './review-logic.js';
import type { Store } from './store.js';
import type { CurrentReview } from './context.js';

export function mountNoticeOverlay(store: Store<CurrentReview>, doc: Document = document): () => void {
  const el = doc.createElement('div');
  el.dataset.limenNoticeOverlay = '';
  el.setAttribute('role', 'note');
  el.textContent = AI_NOTICE;
  Object.assign(el.style, {
    position: 'fixed',
    top: '56px',
    left: '50%',
    transform: 'translateX(-50%)',
    zIndex: '20',
    pointerEvents: 'none',
    padding: '4px 10px',
    borderRadius: '4px',
    border: '1px solid #ffcc66',
    background: 'rgba(9, 12, 41, 0.85)',
    color: '#ffcc66',
    font: '600 12px system-ui, sans-serif',
    whiteSpace: 'nowrap',
    display: 'none',
  } satisfies Partial<CSSStyleDeclaration>);
  doc.body.appendChild(el);
  const update = () => {
    el.style.display = store.get().review ? 'block' : 'none';
  };
  const unsubscribe = store.subscribe(update);
  update();
  return () => {
    unsubscribe();
    el.remove();
  };
}
