/**
 * The Retrieve Capabilities transaction (PS3.18 §8.9) over a real socket: curl sends OPTIONS, and
 * Python's XML parser reads the WADL it gets back.
 */
import { expect } from 'chai';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { makeReadHarness, type ReadHarness } from './read-harness.js';

const run = promisify(execFile);

/** The WADL as nested resources: path, methods (name → success media types), children. */
interface WadlResource {
  path: string;
  methods: Record<string, string[]>;
  requests: Record<string, string[]>;
  resources: WadlResource[];
}

const READ = `
import json, sys, xml.etree.ElementTree as ET
NS = '{http://wadl.dev.java.net/2009/02}'
def resource(r):
    methods, requests = {}, {}
    for m in r.findall(NS + 'method'):
        methods[m.get('name')] = sorted({rep.get('mediaType') for resp in m.findall(NS + 'response') for rep in resp.findall(NS + 'representation')})
        requests[m.get('name')] = [rep.get('mediaType') for req in m.findall(NS + 'request') for rep in req.findall(NS + 'representation')]
    return {'path': r.get('path'), 'methods': methods, 'requests': requests, 'resources': [resource(c) for c in r.findall(NS + 'resource')]}
root = ET.fromstring(sys.stdin.read())
assert root.tag == NS + 'application', root.tag
resources = root.find(NS + 'resources')
print(json.dumps({'base': resources.get('base'), 'resources': [resource(r) for r in resources.findall(NS + 'resource')]}))
`;

describe('gateway/dicomweb Retrieve Capabilities (real server)', function () {
  this.timeout(60_000);
  let h: ReadHarness;
  let base: string;

  before(async () => {
    h = await makeReadHarness();
    base = await h.listen();
  });
  after(async () => {
    await h?.dispose();
  });

  const options = async (path: string, accept = 'application/vnd.sun.wadl+xml') => {
    const { stdout } = await run('curl', ['-sS', '-X', 'OPTIONS', '-H', `Accept: ${accept}`, '-D', '-', `${base}${path}`]);
    const [head, body] = stdout.split('\r\n\r\n');
    return { status: Number(head.split(' ')[1]), head: head.toLowerCase(), body };
  };
  const wadl = (body: string) => JSON.parse(execFileSync('/usr/bin/python3', ['-c', READ], { input: body }).toString()) as { base: string; resources: WadlResource[] };
  const find = (list: WadlResource[], path: string) => list.find((r) => r.path === path)!;

  it('describes the whole service at its root: search, retrieve, metadata, frames, bulk data and store', async () => {
    const r = await options('/dicomweb');
    expect(r.status).to.equal(200);
    expect(r.head).to.include('content-type: application/vnd.sun.wadl+xml');
    const doc = wadl(r.body);
    expect(doc.base).to.equal(`${base}/dicomweb`);
    expect(doc.resources.map((x) => x.path).sort()).to.deep.equal(['instances', 'series', 'studies']);
    const studies = find(doc.resources, 'studies');
    expect(studies.methods.GET).to.deep.equal(['application/dicom+json', 'multipart/related; type="application/dicom+xml"']);
    expect(studies.methods.POST).to.deep.equal(['application/dicom+json', 'application/dicom+xml']);
    expect(studies.requests.POST).to.deep.equal(['multipart/related; type="application/dicom"']);
    const study = find(studies.resources, '{study}');
    expect(Object.keys(study.methods).sort()).to.deep.equal(['GET', 'POST']);
    expect(study.resources.map((x) => x.path).sort()).to.deep.equal(['instances', 'metadata', 'series']);
    const instance = find(find(find(find(study.resources, 'series').resources, '{series}').resources, 'instances').resources, '{instance}');
    expect(instance.methods.GET).to.deep.equal(['multipart/related; type="application/dicom"']);
    expect(instance.resources.map((x) => x.path).sort()).to.deep.equal(['bulk', 'frames', 'metadata']);
    expect(find(find(instance.resources, 'frames').resources, '{frames}').methods.GET).to.include('multipart/related; type="application/octet-stream"');
  });

  it('describes the resource asked about and those below it, with the methods it allows', async () => {
    const r = await options('/dicomweb/studies/1.2.3/series');
    expect(r.status).to.equal(200);
    expect(r.head).to.match(/allow: get, head, options/);
    const [series] = wadl(r.body).resources;
    expect(series.path).to.equal('studies/{study}/series');
    expect(Object.keys(series.methods)).to.deep.equal(['GET']);
    expect(series.resources.map((x) => x.path)).to.deep.equal(['{series}']);
  });

  it('answers 404 for what is no resource, and 406 when the client takes no XML', async () => {
    expect((await options('/dicomweb/nothing-here')).status).to.equal(404);
    expect((await options('/dicomweb', 'application/json')).status).to.equal(406);
    // Everything else under /dicomweb still answers as before: an unknown path is 404, not 405.
    expect((await h.get('/dicomweb/nothing-here')).status).to.equal(404);
  });
});
