/** A body that must be a JSON object: a 400 that says so for anything else (a JSON null was a 500 on the review decision). */
import { expect } from 'chai';
import { Hono } from 'hono';
import { HttpError, jsonObjectBody } from '../../../gateway/http/index.js';
import { MAX_JSON_BODY_BYTES } from '../../../gateway/http/json-body.js';

describe('gateway/http jsonObjectBody', () => {
  const app = new Hono();
  app.post('/strict', async (c) => c.json(await jsonObjectBody(c, 'send { "a": 1 }')));
  app.post('/lenient', async (c) => c.json(await jsonObjectBody(c, 'send { "a": 1 } or nothing', { a: 0 })));
  app.onError((err) => (err instanceof HttpError ? err.getResponse() : new Response('unexpected', { status: 500 })));
  const post = async (path: string, body: string) => {
    const r = await app.request(path, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    return { status: r.status, json: (await r.json()) as unknown };
  };

  it('gives a JSON object as it is, and an empty body as the default where there is one', async () => {
    expect(await post('/strict', '{"a":1}')).to.deep.equal({ status: 200, json: { a: 1 } });
    expect(await post('/lenient', ' \n')).to.deep.equal({ status: 200, json: { a: 0 } });
  });

  it('answers 400 bad-json with the usage for anything else', async () => {
    for (const [path, body] of [['/strict', ''], ['/strict', 'null'], ['/strict', '[]'], ['/strict', '42'], ['/strict', '"x"'], ['/strict', '{bad'], ['/lenient', 'null'], ['/lenient', '[{"a":1}]']]) {
      const r = await post(path, body);
      const usage = path === '/strict' ? 'send { "a": 1 }' : 'send { "a": 1 } or nothing';
      expect(r, `${path} ${body}`).to.deep.equal({ status: 400, json: { error: { code: 'bad-json', message: usage } } });
    }
  });

  it('answers 413 past its limit, whether the length is announced or the body streams without one', async () => {
    const big = `{"comment":"${'x'.repeat(MAX_JSON_BODY_BYTES)}"}`;
    const announced = await post('/strict', big);
    expect(announced.status).to.equal(413);
    expect(announced.json).to.deep.include({ error: { code: 'body-too-large', message: `the body is larger than ${MAX_JSON_BODY_BYTES} bytes` } });
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled += 1;
        controller.enqueue(new Uint8Array(64 * 1024).fill(0x20));
      },
    });
    const streamed = await app.request('/strict', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(streamed.status).to.equal(413);
    // It stopped reading soon after the limit: an endless body is not read to its end.
    expect(pulled).to.be.lessThan(MAX_JSON_BODY_BYTES / (64 * 1024) + 4);
  });
});
