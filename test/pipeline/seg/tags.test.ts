import { expect } from 'chai';
import { dicom } from '../../../anonymizer/index.js';
import { TAG } from '../../../pipeline/seg/tags.js';

describe('pipeline/seg tags', () => {
  it('name the attribute the data dictionary gives for each tag', () => {
    for (const [keyword, tag] of Object.entries(TAG)) {
      expect(dicom.lookup(tag)?.keyword, `${keyword} ${dicom.formatTag(tag)}`).to.equal(keyword);
    }
  });
});
