import { expect } from 'chai';
import {
  createEdgeMetrics,
  EXPOSITION_CONTENT_TYPE,
  FAILURE_REASONS,
  MetricsError,
  MetricsRegistry,
  STORE_LATENCY_BUCKETS,
} from '../../../gateway/metrics/index.js';
import { parseExposition } from './exposition-parser.js';

describe('gateway/metrics registry', () => {
  it('renders counters with labels, gauges and histograms in a parseable exposition', () => {
    const r = new MetricsRegistry();
    const c = r.counter({ name: 'x_requests_total', help: 'Requests.\nSecond line with \\ backslash', labelNames: ['code', 'path'] });
    c.inc({ code: '200', path: 'a"b\\c\nd' });
    c.inc({ code: '200', path: 'a"b\\c\nd' }, 2);
    c.inc({ code: '500', path: '/' });
    const g = r.gauge({ name: 'x_in_flight', help: 'In flight.' });
    g.inc();
    g.inc();
    g.dec();
    g.set(7.5);
    const h = r.histogram({ name: 'x_latency_seconds', help: 'Latency.', buckets: [0.1, 1, 10] });
    for (const v of [0.05, 0.1, 0.5, 3, 30]) h.observe(v);

    const text = r.render();
    const fams = parseExposition(text);
    expect([...fams.keys()]).to.deep.equal(['x_requests_total', 'x_in_flight', 'x_latency_seconds']);
    const req = fams.get('x_requests_total')!;
    expect(req.type).to.equal('counter');
    expect(req.help).to.equal('Requests.\nSecond line with \\ backslash');
    expect(req.samples).to.deep.include({ name: 'x_requests_total', labels: { code: '200', path: 'a"b\\c\nd' }, value: 3 });
    expect(req.samples).to.deep.include({ name: 'x_requests_total', labels: { code: '500', path: '/' }, value: 1 });
    expect(fams.get('x_in_flight')!.samples).to.deep.equal([{ name: 'x_in_flight', labels: {}, value: 7.5 }]);
    const lat = fams.get('x_latency_seconds')!;
    expect(lat.type).to.equal('histogram');
    const bucket = (le: string) => lat.samples.find((s) => s.name === 'x_latency_seconds_bucket' && s.labels.le === le)?.value;
    // Cumulative: le=0.1 includes the observation equal to the bound.
    expect([bucket('0.1'), bucket('1'), bucket('10'), bucket('+Inf')]).to.deep.equal([2, 3, 4, 5]);
    expect(lat.samples.find((s) => s.name === 'x_latency_seconds_count')?.value).to.equal(5);
    expect(lat.samples.find((s) => s.name === 'x_latency_seconds_sum')?.value).to.be.closeTo(33.65, 1e-9);
    expect(EXPOSITION_CONTENT_TYPE).to.equal('text/plain; version=0.0.4; charset=utf-8');
  });

  it('keeps registries apart (no global state)', () => {
    const a = new MetricsRegistry();
    const b = new MetricsRegistry();
    a.counter({ name: 'only_in_a_total', help: 'a' }).inc();
    expect(b.render()).to.equal('');
    expect(a.render()).to.contain('only_in_a_total 1');
  });

  it('refuses misuse: bad names, wrong labels, decreasing counters, conflicting registrations', () => {
    const r = new MetricsRegistry();
    expect(() => r.counter({ name: '1bad', help: 'x' })).to.throw(MetricsError);
    expect(() => r.counter({ name: 'ok_total', help: 'x', labelNames: ['__reserved'] })).to.throw(MetricsError);
    const c = r.counter({ name: 'ok_total', help: 'x', labelNames: ['reason'] });
    expect(() => c.inc()).to.throw(/missing reason/);
    expect(() => c.inc({ reason: 'a', extra: 'b' })).to.throw(/unknown extra/);
    expect(() => c.inc({ reason: 'a' }, -1)).to.throw(MetricsError);
    expect(() => r.gauge({ name: 'ok_total', help: 'x' })).to.throw(/another shape/);
    expect(() => r.histogram({ name: 'h', help: 'x', buckets: [1, 1] })).to.throw(MetricsError);
    expect(() => r.histogram({ name: 'h2', help: 'x', labelNames: ['le'] })).to.throw(/reserved/);
    // The same shape again is the same metric.
    r.counter({ name: 'ok_total', help: 'x', labelNames: ['reason'] }).inc({ reason: 'a' });
    expect(c.get({ reason: 'a' })).to.equal(1);
  });

  it('defines the edge metrics with the names and labels operators rely on', () => {
    const r = new MetricsRegistry();
    const edge = createEdgeMetrics(r);
    edge.instancesReceived.inc();
    edge.instancesFailed.inc({ reason: 'cannot-understand' });
    edge.receivedBytes.inc({}, 27358);
    edge.studiesCompleted.inc();
    edge.storeLatency.observe(0.004);
    expect(createEdgeMetrics(r).instancesReceived.get()).to.equal(1);

    const fams = parseExposition(r.render());
    const value = (name: string, labels: Record<string, string> = {}) =>
      fams.get(name)?.samples.find((s) => s.name === name && JSON.stringify(s.labels) === JSON.stringify(labels))?.value;
    expect(fams.get('limen_instances_received_total')?.type).to.equal('counter');
    expect(value('limen_instances_received_total')).to.equal(1);
    expect(value('limen_instances_failed_total', { reason: 'cannot-understand' })).to.equal(1);
    for (const reason of FAILURE_REASONS) expect(value('limen_instances_failed_total', { reason }), reason).to.be.a('number');
    expect(value('limen_received_bytes_total')).to.equal(27358);
    expect(value('limen_studies_completed_total')).to.equal(1);
    const lat = fams.get('limen_store_latency_seconds')!;
    expect(lat.type).to.equal('histogram');
    expect(lat.samples.filter((s) => s.name.endsWith('_bucket'))).to.have.length(STORE_LATENCY_BUCKETS.length + 1);
    expect(lat.samples.find((s) => s.name.endsWith('_bucket') && s.labels.le === '0.005')?.value).to.equal(1);
    expect(lat.samples.find((s) => s.name.endsWith('_bucket') && s.labels.le === '0.0025')?.value).to.equal(0);
  });

  it('times with startTimer', async () => {
    const r = new MetricsRegistry();
    const h = r.histogram({ name: 't_seconds', help: 't', buckets: [0.001, 1] });
    const stop = h.startTimer();
    await new Promise((res) => setTimeout(res, 5));
    const s = stop();
    expect(s).to.be.within(0.004, 1);
    expect(h.get().buckets).to.deep.equal([0, 1]);
  });

  it('the test parser rejects malformed exposition text', () => {
    expect(() => parseExposition('x 1')).to.throw(/newline/);
    expect(() => parseExposition('# TYPE x counter\nx{a="1" 2\n')).to.throw();
    expect(() => parseExposition('# TYPE x counter\nx one\n')).to.throw(/bad value/);
    expect(() => parseExposition('y 1\n')).to.throw(/without a preceding/);
  });
});
