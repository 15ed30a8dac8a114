/**
 * `/readyz` of a running gateway, whose HTTP listener may face every interface of a container:
 * it names the check that failed and nothing of the database's own words (an address, a user),
 * which go to the log, once when the check starts failing and once when it recovers.
 */
import { expect } from 'chai';
import { startStopGateway, type StopGateway } from './stop-harness.js';

describe('gateway /readyz', function () {
  this.timeout(20_000);
  let g: StopGateway;

  before(async () => {
    g = await startStopGateway('worker:\n  enabled: false\n');
  });
  after(async () => g?.dispose());

  it('answers "database: unavailable" without the error, and logs the error once per change, not per probe', async () => {
    const ready = `http://127.0.0.1:${g.gw.http.port}/readyz`;
    const ping = g.gw.storage.ping.bind(g.gw.storage);
    g.gw.storage.ping = async () => {
      throw new Error('password authentication failed for user "limen" (connect 10.0.0.5:5432)');
    };
    const bodies: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await fetch(ready);
      expect(res.status).to.equal(503);
      bodies.push(await res.text());
    }
    expect(JSON.parse(bodies[0])).to.deep.equal({ ready: false, checks: { database: 'unavailable', dimse: 'ok' } });
    for (const body of bodies) expect(body).to.not.match(/password|limen"|10\.0\.0\.5|5432/);
    const failed = g.records().filter((r) => r.id === 'http.readiness.check-failed');
    expect(failed).to.have.length(1);
    expect(failed[0]).to.include({ level: 'warn', check: 'database' });
    expect(failed[0].detail).to.contain('password authentication failed');

    g.gw.storage.ping = ping;
    for (let i = 0; i < 2; i++) expect((await fetch(ready)).status).to.equal(200);
    expect(await (await fetch(ready)).json()).to.deep.equal({ ready: true, checks: { database: 'ok', dimse: 'ok' } });
    expect(g.records().filter((r) => r.id === 'http.readiness.check-recovered')).to.have.length(1);
    expect(g.records().filter((r) => r.id === 'http.readiness.check-failed')).to.have.length(1);
  });
});
