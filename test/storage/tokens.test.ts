import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROLES, SQLITE_FILE, TOKEN_PREFIX } from '../../storage/index.js';
import { describeEachDatabase } from './harness.js';
import { manualClock, rejection } from './fixtures.js';

describeEachDatabase('storage: API tokens', (h) => {
  it('returns the token once and verifies it to its role and user', async () => {
    const s = await h.open();
    for (const role of ROLES) {
      const created = await s.createToken({ role, user: `svc-${role}`, ttlSeconds: 3600 });
      expect(created.token.startsWith(TOKEN_PREFIX)).to.equal(true);
      expect(created.token.length).to.be.greaterThan(40);
      expect(await s.verifyToken(created.token)).to.deep.equal({ id: created.id, role, user: `svc-${role}` });
    }
    const anonymous = await s.createToken({ role: 'modality', ttlSeconds: 60 });
    expect((await s.verifyToken(anonymous.token))!.user).to.equal(null);
  });

  it('stores only the SHA-256 of a token', async () => {
    const s = await h.open();
    const { token, id } = await s.createToken({ role: 'admin', ttlSeconds: 3600 });
    const rows = await h.sql('SELECT * FROM api_tokens');
    expect(rows).to.have.length(1);
    expect(rows[0].token_hash).to.equal(createHash('sha256').update(token).digest('hex'));
    expect(JSON.stringify(rows)).not.to.contain(token.slice(TOKEN_PREFIX.length));
    expect((await s.tokens.list()).map((t) => t.id)).to.deep.equal([id]);
    expect(JSON.stringify(await s.tokens.list())).not.to.contain(token);
    if (h.dialect === 'sqlite') {
      const secret = Buffer.from(token.slice(TOKEN_PREFIX.length));
      for (const f of readdirSync(h.dataDir).filter((n) => n.startsWith(SQLITE_FILE))) expect(readFileSync(join(h.dataDir, f)).includes(secret), f).to.equal(false);
    }
  });

  it('rejects unknown, altered, expired and revoked tokens', async () => {
    const clock = manualClock();
    const s = await h.open({ now: clock.now });
    const short = await s.createToken({ role: 'reviewer', ttlSeconds: 60 });
    const revoked = await s.createToken({ role: 'reviewer', ttlSeconds: 600 });
    expect(await s.verifyToken(`${TOKEN_PREFIX}${'A'.repeat(43)}`)).to.equal(null);
    expect(await s.verifyToken(short.token.slice(0, -1) + (short.token.endsWith('A') ? 'B' : 'A'))).to.equal(null);
    expect(await s.verifyToken('')).to.equal(null);
    expect(await s.tokens.revoke(revoked.id)).to.equal(true);
    expect(await s.tokens.revoke(revoked.id)).to.equal(false);
    expect(await s.verifyToken(revoked.token)).to.equal(null);
    clock.advance(59);
    expect(await s.verifyToken(short.token)).to.not.equal(null);
    clock.advance(1);
    expect(await s.verifyToken(short.token)).to.equal(null);
  });

  it('records token.created with the token, in one transaction: no token exists that the trail does not show', async () => {
    const s = await h.open();
    const { id } = await s.createToken({ role: 'modality', user: 'ct-scanner-2', ttlSeconds: 600, issuedBy: 'cli' });
    const [event] = await s.audit.list({ type: 'token.created' });
    expect(event).to.include({ type: 'token.created', actor: 'cli' });
    expect(event.detail).to.deep.equal({ tokenId: id, role: 'modality', user: 'ct-scanner-2', ttlSeconds: 600 });
    // An event that cannot be written (an actor over 256 characters) takes its token with it.
    expect((await rejection(s.createToken({ role: 'admin', ttlSeconds: 60, issuedBy: 'x'.repeat(257) }))).path).to.equal('actor');
    expect((await s.tokens.list()).map((t) => t.id)).to.deep.equal([id]);
    expect(await s.audit.list({ type: 'token.created' })).to.have.length(1);
    expect((await s.audit.verify()).ok).to.equal(true);
  });

  it('refuses an unknown role or a token that never expires', async () => {
    const s = await h.open();
    expect((await rejection(s.createToken({ role: 'root' as never, ttlSeconds: 60 }))).path).to.equal('role');
    expect((await rejection(s.createToken({ role: 'admin', ttlSeconds: 0 }))).path).to.equal('ttlSeconds');
    expect((await rejection(s.createToken({ role: 'admin', ttlSeconds: Number.POSITIVE_INFINITY }))).path).to.equal('ttlSeconds');
  });
});
