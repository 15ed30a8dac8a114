/**
 * Behind a TLS-terminating proxy, the URLs Limen writes into its answers name the address clients
 * use (`http.publicUrl`), not the one the proxy called, the session cookie is Secure although the
 * request reached Limen over plain HTTP, and a page of the public origin is this origin. The same gateway without it answers with the request's
 * own origin: the control that shows the setting is what changes them.
 */
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { multipartRelated } from '../../support/curl.js';
import { CT_FAKEPHI_FILES } from '../../support/fakephi.js';
import { startTestGateway, type TestGateway } from '../../support/gateway.js';

const PUBLIC = 'https://pacs.hospital.example';

interface Seen {
  bulkDataURI: string;
  wadlBase: string;
  cookie: string;
  /** A cookie-authenticated sign-out from a page of the public origin, by a browser that sends Origin but not Sec-Fetch-Site. */
  signOutFromPublicPage: number;
  /** The same from the public host over plain HTTP: another origin. */
  signOutFromPlainPage: number;
}

async function whatClientsSee(gw: TestGateway): Promise<Seen> {
  const modality = await gw.storage.createToken({ role: 'modality', ttlSeconds: 600 });
  const reviewer = await gw.storage.createToken({ role: 'reviewer', user: 'dr-proxy', ttlSeconds: 600 });
  const { body, contentType } = multipartRelated([readFileSync(CT_FAKEPHI_FILES[0])]);
  const stored = await fetch(`${gw.base}/dicomweb/studies`, { method: 'POST', body: new Uint8Array(body), headers: { 'content-type': contentType, authorization: `Bearer ${modality.token}`, accept: 'application/dicom+json' } });
  expect(stored.status, await stored.clone().text()).to.equal(200);

  const auth = { authorization: `Bearer ${reviewer.token}` };
  // The one instance stored, under its de-identified UIDs.
  const found = (await (await fetch(`${gw.base}/dicomweb/instances`, { headers: auth })).json()) as Array<Record<string, { Value: string[] }>>;
  expect(found).to.have.length(1);
  const [study, series, sop] = ['0020000D', '0020000E', '00080018'].map((tag) => found[0][tag].Value[0]);
  const metadata = (await (await fetch(`${gw.base}/dicomweb/studies/${study}/series/${series}/instances/${sop}/metadata`, { headers: auth })).json()) as Array<Record<string, { BulkDataURI?: string }>>;
  const wadl = await (await fetch(`${gw.base}/dicomweb`, { method: 'OPTIONS', headers: { accept: 'application/vnd.sun.wadl+xml' } })).text();
  const session = await fetch(`${gw.base}/api/v1/session`, { method: 'POST', headers: auth });
  expect(session.status).to.equal(201);
  const cookie = session.headers.get('set-cookie') ?? '';
  const signOutFrom = async (origin: string) => (await fetch(`${gw.base}/api/v1/session`, { method: 'DELETE', headers: { cookie: cookie.split(';')[0], origin } })).status;
  const signOutFromPlainPage = await signOutFrom(PUBLIC.replace('https:', 'http:'));
  const signOutFromPublicPage = await signOutFrom(PUBLIC);
  return { bulkDataURI: metadata[0]['7FE00010'].BulkDataURI ?? '', wadlBase: /<resources base="([^"]+)"/.exec(wadl)?.[1] ?? '', cookie, signOutFromPublicPage, signOutFromPlainPage };
}

describe('http: the public URL behind a proxy', function () {
  this.timeout(60_000);
  const gateways: TestGateway[] = [];
  after(async () => {
    for (const gw of gateways) await gw.dispose();
  });

  it('names the public origin in BulkDataURI and the capabilities, marks the session cookie Secure, and takes the public host as its own', async () => {
    const gw = await startTestGateway(`worker:\n  enabled: false\nhttp:\n  publicUrl: "${PUBLIC}/"\n`);
    gateways.push(gw);
    const seen = await whatClientsSee(gw);
    expect(seen.bulkDataURI).to.match(new RegExp(`^${PUBLIC}/dicomweb/studies/[0-9.]+/series/[0-9.]+/instances/[0-9.]+/bulk/7FE00010$`));
    expect(seen.wadlBase).to.equal(`${PUBLIC}/dicomweb`);
    expect(seen.cookie).to.match(/;\s*Secure/i);
    expect(seen.signOutFromPlainPage, 'the public host over plain HTTP is another origin').to.equal(403);
    expect(seen.signOutFromPublicPage, 'the public origin is this origin').to.equal(204);
  });

  it('without it, answers with the origin of each request, and a cookie sent over HTTP is not Secure', async () => {
    const gw = await startTestGateway('worker:\n  enabled: false\n');
    gateways.push(gw);
    const seen = await whatClientsSee(gw);
    expect(seen.bulkDataURI.startsWith(`${gw.base}/dicomweb/studies/`), seen.bulkDataURI).to.equal(true);
    expect(seen.wadlBase).to.equal(`${gw.base}/dicomweb`);
    expect(seen.cookie).not.to.match(/;\s*Secure/i);
    expect(seen.signOutFromPlainPage, 'another host is another site').to.equal(403);
    expect(seen.signOutFromPublicPage, 'another host is another site').to.equal(403);
  });
});
