/** Accept headers and what WADO-RS answers them with (PS3.18 §8.7.3): the pure part. */
import { expect } from 'chai';
import { parseAccept } from '../../../gateway/dicomweb/accept.js';
import { chooseBulkRendition, chooseFrameRendition, chooseDicomModel, chooseInstanceRendition } from '../../../gateway/dicomweb/wado-negotiation.js';

const EVRLE = '1.2.840.10008.1.2.1';
const JLS = '1.2.840.10008.1.2.4.80';
const JPEG = '1.2.840.10008.1.2.4.50';

describe('gateway/dicomweb content negotiation', () => {
  it('orders ranges by q, then as written, and keeps type and transfer-syntax', () => {
    const ranges = parseAccept('application/json;q=0.5, multipart/related; type="application/dicom"; transfer-syntax=*, */*;q=0.1, image/png;q=0');
    expect(ranges.map((r) => [r.essence, r.partType, r.transferSyntax, r.q])).to.deep.equal([
      ['multipart/related', 'application/dicom', '*', 1],
      ['application/json', undefined, undefined, 0.5],
      ['*/*', undefined, undefined, 0.1],
    ]);
    expect(parseAccept(undefined)).to.deep.equal([{ essence: '*/*', q: 1 }]);
    // OHIF leaves the type parameter unquoted.
    expect(parseAccept('multipart/related; type=application/octet-stream; transfer-syntax=*')[0].partType).to.equal('application/octet-stream');
  });

  it('sends instances as stored by default and with transfer-syntax=*, as EVRLE when asked and possible', () => {
    const choose = (accept: string, stored: string[]) => chooseInstanceRendition(parseAccept(accept), stored);
    expect(choose('', [JLS])).to.equal('stored');
    expect(choose('multipart/related; type="application/dicom"', [JLS, EVRLE])).to.equal('stored');
    expect(choose(`multipart/related; type="application/dicom"; transfer-syntax=${EVRLE}`, [JLS])).to.equal('explicit-le');
    expect(choose(`multipart/related; type="application/dicom"; transfer-syntax=${EVRLE}`, [JPEG])).to.equal(null); // no baseline JPEG decoder
    expect(choose(`multipart/related; type="application/dicom"; transfer-syntax=${JLS}`, [EVRLE])).to.equal(null); // no encoder
    expect(choose('multipart/related; type="application/dicom+xml"', [EVRLE])).to.equal(null);
    expect(choose(`multipart/related; type="application/dicom"; transfer-syntax=${JPEG}, multipart/related; type="application/dicom";q=0.5`, [EVRLE])).to.equal('stored');
  });

  it('sends native frames as octet-stream and refuses compressed media types for them', () => {
    const choose = (accept: string, n = 1) => chooseFrameRendition(parseAccept(accept), EVRLE, n);
    expect(choose('multipart/related; type="application/octet-stream"')).to.deep.equal({ kind: 'native', contentType: `application/octet-stream; transfer-syntax=${EVRLE}`, singlePart: false });
    expect(choose('*/*')?.kind).to.equal('native');
    expect(choose('multipart/related; type="image/jls"')).to.equal(null);
    expect(choose('application/octet-stream')?.singlePart).to.equal(true);
    expect(choose('application/octet-stream', 2)).to.equal(null);
  });

  it('sends compressed frames as stored with their media type, or decompressed when octet-stream is asked', () => {
    const choose = (accept: string, ts = JLS) => chooseFrameRendition(parseAccept(accept), ts, 1);
    expect(choose('multipart/related; type="image/jls"')?.contentType).to.equal(`image/jls; transfer-syntax=${JLS}`);
    expect(choose('multipart/related; type="image/*"')?.kind).to.equal('stored');
    expect(choose('*/*')?.contentType).to.equal(`image/jls; transfer-syntax=${JLS}`);
    expect(choose('multipart/related; type="application/octet-stream"; transfer-syntax=*')?.contentType).to.equal(`application/octet-stream; transfer-syntax=${JLS}`);
    expect(choose('multipart/related; type="application/octet-stream"')?.kind).to.equal('decoded');
    expect(choose('multipart/related; type="application/octet-stream"', JPEG)).to.equal(null);
    expect(choose('multipart/related; type="image/jp2"')).to.equal(null);
    expect(choose('multipart/related; type="image/jpeg"', JPEG)?.contentType).to.equal(`image/jpeg; transfer-syntax=${JPEG}`);
    // dicomweb-client still asks by the older names.
    expect(choose(`multipart/related; type="image/x-jls"; transfer-syntax=${JLS}`)?.kind).to.equal('stored');
    expect(choose('multipart/related; type="image/x-dicom-rle"', '1.2.840.10008.1.2.5')?.contentType).to.equal('image/dicom-rle; transfer-syntax=1.2.840.10008.1.2.5');
  });

  it('answers DICOM JSON by default and the Native DICOM Model in XML when preferred, and bulk data as octet-stream', () => {
    const model = (accept: string, xml: 'single' | 'multipart' = 'multipart') => chooseDicomModel(accept, xml);
    const json = { model: 'json', contentType: 'application/dicom+json' };
    expect(model('application/dicom+json')).to.deep.equal(json);
    expect(model('application/json')).to.deep.equal({ model: 'json', contentType: 'application/json' });
    expect(model('')).to.deep.equal(json);
    expect(model('*/*')).to.deep.equal(json);
    // Search results and metadata: XML only as multipart/related, a document per dataset.
    expect(model('multipart/related; type="application/dicom+xml"')).to.deep.equal({ model: 'xml', multipart: true });
    expect(model('multipart/related')).to.deep.equal({ model: 'xml', multipart: true });
    expect(model('application/dicom+xml')).to.equal(null);
    expect(model('multipart/related; type="application/dicom"')).to.equal(null);
    // A Store Instances Response: one XML document.
    expect(model('application/dicom+xml', 'single')).to.deep.equal({ model: 'xml', multipart: false });
    expect(model('multipart/related; type="application/dicom+xml"', 'single')).to.equal(null);
    // q-values decide, JSON on a tie; a JSON refused by name (q=0) is refused whatever */* says.
    expect(model('application/dicom+json; q=0.5, application/dicom+xml', 'single')).to.deep.equal({ model: 'xml', multipart: false });
    expect(model('application/dicom+xml, application/dicom+json', 'single')).to.deep.equal(json);
    expect(model('application/dicom+xml, application/json; q=0.9', 'single')).to.deep.equal({ model: 'xml', multipart: false });
    // The most specific range decides for XML parts too, a q=0 one included.
    expect(model('multipart/related; type="application/dicom+xml"; q=0, multipart/*')).to.equal(null);
    expect(model('multipart/related; type="application/dicom+xml"; q=0.2, multipart/related; q=0.9, application/dicom+json; q=0.5')).to.deep.equal(json);
    expect(model('multipart/related; type="application/*"; q=0.7, application/dicom+json; q=0.5')).to.deep.equal({ model: 'xml', multipart: true });
    expect(model('application/dicom+json; q=0, application/json; q=0, */*; q=0.1', 'single')).to.deep.equal({ model: 'xml', multipart: false });
    expect(model('application/dicom+json; q=0, */*; q=0.1', 'single')).to.deep.equal({ model: 'json', contentType: 'application/json' });
    expect(chooseBulkRendition(parseAccept('multipart/related; type="application/octet-stream"'))).to.deep.equal({ singlePart: false });
    expect(chooseBulkRendition(parseAccept('application/octet-stream'))).to.deep.equal({ singlePart: true });
    expect(chooseBulkRendition(parseAccept('image/png'))).to.equal(null);
  });
});
