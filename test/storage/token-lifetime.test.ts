/**
 * A token's lifetime as storage keeps it: a bounded time to live (an unbounded one once gave a
 * token whose expiry was no date at all, and which never expired), the lookup by id that
 * browser sessions ask on each use, and a revocation the audit trail shows.
 */
import { expect } from 'chai';
import { MAX_TOKEN_TTL_SECONDS } from '../../storage/index.js';
import { describeEachDatabase } from './harness.js';
import { manualClock, rejection } from './fixtures.js';

describeEachDatabase('storage: API token lifetime', (h) => {
  it('refuses a time to live beyond two years, which once stored a token with an invalid expiry that never expired', async () => {
    const s = await h.open();
    expect(MAX_TOKEN_TTL_SECONDS).to.equal(730 * 86_400);
    const refused = await rejection(s.createToken({ role: 'admin', ttlSeconds: 99_999_999_999 * 86_400 }));
    expect(refused).to.include({ code: 'invalid-input', path: 'ttlSeconds' });
    expect((await rejection(s.createToken({ role: 'admin', ttlSeconds: MAX_TOKEN_TTL_SECONDS + 1 }))).path).to.equal('ttlSeconds');
    expect(await s.tokens.list()).to.deep.equal([]);
    const longest = await s.createToken({ role: 'admin', ttlSeconds: MAX_TOKEN_TTL_SECONDS });
    expect(Number.isNaN(longest.expiresAt.getTime())).to.equal(false);
  });

  it('activeUntil: the expiry while the token holds; null once revoked, expired, or for an unknown id', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const kept = await s.createToken({ role: 'reviewer', ttlSeconds: 60 });
    const revoked = await s.createToken({ role: 'reviewer', ttlSeconds: 600 });
    expect((await s.tokens.activeUntil(kept.id))?.toISOString()).to.equal(kept.expiresAt.toISOString());
    expect(await s.tokens.activeUntil(revoked.id)).to.not.equal(null);
    await s.tokens.revoke(revoked.id);
    expect(await s.tokens.activeUntil(revoked.id)).to.equal(null);
    expect(await s.tokens.activeUntil('feedfacefeedface')).to.equal(null);
    clock.advance(59);
    expect(await s.tokens.activeUntil(kept.id)).to.not.equal(null);
    clock.advance(1);
    expect(await s.tokens.activeUntil(kept.id)).to.equal(null);
  });

  it('get: one token by id without its secret; revoke: commits with a token.revoked event, once', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const { id, token } = await s.createToken({ role: 'auditor', user: 'qa-1', ttlSeconds: 3600 });
    expect(await s.tokens.get('feedfacefeedface')).to.equal(null);
    const info = await s.tokens.get(id);
    expect(info).to.deep.include({ id, role: 'auditor', user: 'qa-1', revokedAt: null });
    expect(JSON.stringify(info)).to.not.include(token.slice(10));
    clock.advance(5);
    expect(await s.tokens.revoke(id, 'cli')).to.equal(true);
    expect(await s.tokens.revoke(id, 'cli')).to.equal(false);
    expect(await s.tokens.revoke('feedfacefeedface')).to.equal(false);
    expect((await s.tokens.get(id))?.revokedAt?.toISOString()).to.equal(clock.now().toISOString());
    const events = await s.audit.list({ type: 'token.revoked' });
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ actor: 'cli' });
    expect(events[0].detail).to.deep.equal({ tokenId: id });
    expect((await s.audit.verify()).ok).to.equal(true);
  });
});
