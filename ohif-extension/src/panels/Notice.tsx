import { AI_NOTICE } from '../review-logic.js';
import { s } from './styles.js';

/** The statement that the result is AI-generated and needs a radiologist's approval. */
export function AiNotice() {
  return (
    <div role="note" data-limen-notice="" style={s.notice}>
      {AI_NOTICE}
    </div>
  );
}
