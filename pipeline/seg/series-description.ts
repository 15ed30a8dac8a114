/**
 * A SEG's SeriesDescription says whether a radiologist has approved it. The pipeline writes it as
 * awaiting review; the exporter, which sends approved results only, as approved. Both fit LO (64).
 */
const AWAITING_REVIEW = ', requires review';
const APPROVED = ', approved in review';
const LO_MAX = 64;

export function awaitingReviewDescription(what: string): string {
  return what.slice(0, LO_MAX - AWAITING_REVIEW.length) + AWAITING_REVIEW;
}

/** The description of an approved SEG; one not written as awaiting review is left as it is. */
export function approvedDescription(description: string): string {
  if (!description.endsWith(AWAITING_REVIEW)) return description;
  return description.slice(0, -AWAITING_REVIEW.length).slice(0, LO_MAX - APPROVED.length) + APPROVED;
}
