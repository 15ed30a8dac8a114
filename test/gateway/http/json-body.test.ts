/** A body that must be a JSON object: a 400 that says so for anything else (a JSON null was a 500 on the review decision). */
import { expect } from 'chai';
import { Hono } from 'hono';
import { HttpError, jsonObjectBody } from '../../../gateway/http/index.js';

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
});
