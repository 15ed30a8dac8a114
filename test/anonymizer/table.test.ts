import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { OUTPUTS, generateAll } from '../../anonymizer/standard/generate.js';
import { TABLE_E1_1_2024B } from '../../anonymizer/profile/table-2024b.generated.js';
import { lookup } from '../../anonymizer/dicom/dictionary.js';
import { UIDS_BEYOND_TABLE } from '../../anonymizer/profile/profile.js';
import { DICTIONARY_BY_TAG, TABLE, tagNumber } from './standard-table.js';

describe('anonymizer: rules generated from PS3.15 Table E.1-1 (2024b)', () => {
  it('the committed generated files are what the generator makes from the standard today', () => {
    const fresh = generateAll();
    expect(readFileSync(OUTPUTS.table, 'utf8')).to.equal(fresh.table);
    expect(readFileSync(OUTPUTS.dictionary, 'utf8')).to.equal(fresh.dictionary);
  });

  it('has every one of the 621 rows, with the basic action and every option cell', () => {
    expect(TABLE).to.have.length(621);
    expect(TABLE_E1_1_2024B).to.have.length(621);
    TABLE.forEach((row, i) => {
      const entry = TABLE_E1_1_2024B[i];
      expect(entry.basic, row.name).to.equal(row.basicProfile);
      const cells = Object.keys(row).filter((k) => k.endsWith('Opt')).length;
      expect(Object.keys(entry.options), row.name).to.have.length(cells);
    });
  });

  it('adds as U only UID attributes of the dictionary that the table does not list', () => {
    for (const [tag, keyword] of UIDS_BEYOND_TABLE) {
      const hex = tag.toString(16).toUpperCase().padStart(8, '0');
      const entry = DICTIONARY_BY_TAG.get(`(${hex.slice(0, 4)},${hex.slice(4)})`);
      expect(entry?.keyword, hex).to.equal(keyword);
      expect(entry?.valueRepresentation, keyword).to.equal('UI');
      expect(TABLE.some((row) => row.tag.toUpperCase() === `(${hex.slice(0, 4)},${hex.slice(4)})`), keyword).to.equal(false);
    }
  });

  it('resolves every row with a concrete tag to a real attribute of the data dictionary, by name', () => {
    const unresolved: string[] = [];
    for (const row of TABLE) {
      if (!/^\([0-9A-F]{4},[0-9A-F]{4}\)$/i.test(row.tag)) continue;
      // Command elements (group 0000) live in PS3.7's command dictionary, not in PS3.6; a dataset never carries them.
      if (row.tag.startsWith('(0000,')) continue;
      const dict = DICTIONARY_BY_TAG.get(row.tag.toUpperCase());
      const entry = lookup(tagNumber(row.tag));
      if (!dict || !entry || dict.keyword !== entry.keyword || normalise(dict.name) !== normalise(row.name)) {
        unresolved.push(`${row.tag} ${row.name} -> ${dict?.name ?? 'nothing'}`);
      }
    }
    expect(unresolved).to.deep.equal([]);
  });

  it('maps the four non-literal rows to patterns', () => {
    const patterns = TABLE_E1_1_2024B.filter((e) => e.pattern).map((e) => e.pattern);
    expect(patterns).to.have.members(['curve', 'overlayData', 'overlayComments', 'private']);
  });
});

// The table and the dictionary differ in punctuation and case of a few names.
function normalise(name: string): string {
  return name.replace(/\(see note \d+\)/i, '').toLowerCase().replace(/[^a-z0-9]/g, '');
}
