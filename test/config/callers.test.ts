import { expect } from 'chai';
import { isLoopbackHost, resolveCaller, type LimenConfig } from '../../config/index.js';
import { expectConfig, expectErrors, loadYaml } from './helpers.js';

describe('config: who may call', () => {
  describe('loopback versus any other address', () => {
    it('knows loopback addresses', () => {
      for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) expect(isLoopbackHost(host), host).to.equal(true);
      for (const host of ['0.0.0.0', '::', '10.0.0.5', 'fd00::1', 'pacs.hospital.example', '128.0.0.1']) expect(isLoopbackHost(host), host).to.equal(false);
    });

    it('on loopback with no remote AEs, the default route accepts any caller', () => {
      const config = expectConfig(loadYaml(''));
      expect(config.routes.default.acceptAnyCaller).to.equal(true);
    });

    it('on loopback with remote AEs listed, the default route no longer accepts any caller, unless it says so', () => {
      const listed = expectConfig(loadYaml('remoteAEs: [{ aeTitle: CT1 }]\n'));
      expect(listed.routes.default.acceptAnyCaller).to.equal(false);
      const open = expectConfig(loadYaml('remoteAEs: [{ aeTitle: CT1 }]\nroutes:\n  default: { acceptAnyCaller: true }\n'));
      expect(open.routes.default.acceptAnyCaller).to.equal(true);
    });

    it('on loopback, another route may take unlisted callers instead of the default one', () => {
      const config = expectConfig(loadYaml('routes:\n  research: { acceptAnyCaller: true }\n'));
      expect(config.routes.research.acceptAnyCaller).to.equal(true);
      expect(config.routes.default.acceptAnyCaller).to.equal(false);
    });

    it('beyond loopback, a configuration that lists no callers is refused, saying why', () => {
      for (const host of ['0.0.0.0', '10.0.0.5', 'gateway.hospital.example']) {
        const errors = expectErrors(loadYaml(`dimse: { host: ${host} }\n`));
        expect(errors, host).to.have.length(1);
        expect(errors[0]).to.include({ code: 'callers_not_listed', path: 'remoteAEs' });
        expect(errors[0].message).to.contain(host).and.contain('loopback');
      }
    });

    it('beyond loopback, acceptAnyCaller is an error that says why', () => {
      const errors = expectErrors(
        loadYaml('dimse: { host: 0.0.0.0 }\nremoteAEs: [{ aeTitle: CT1 }]\nroutes:\n  default:\n    acceptAnyCaller: true\n'),
      );
      expect(errors).to.have.length(1);
      expect(errors[0]).to.include({ code: 'callers_not_listed', path: 'routes.default.acceptAnyCaller', line: 5 });
      expect(errors[0].message).to.contain('loopback').and.contain('0.0.0.0').and.contain('remoteAEs');
    });

    it('beyond loopback, listed callers are accepted and no route takes unlisted ones', () => {
      const config = expectConfig(loadYaml('dimse: { host: 0.0.0.0 }\nremoteAEs: [{ aeTitle: CT1, addresses: [10.0.0.5] }]\n'));
      expect(Object.values(config.routes).some((r) => r.acceptAnyCaller)).to.equal(false);
    });

    it('LIMEN_DIMSE_HOST is held to the same rule', () => {
      const errors = expectErrors(loadYaml('', { LIMEN_DIMSE_HOST: '0.0.0.0' }));
      expect(errors.map((e) => e.code)).to.deep.equal(['callers_not_listed']);
    });
  });

  describe('resolveCaller', () => {
    const hospital: LimenConfig = expectConfig(
      loadYaml(
        [
          'dimse: { host: 0.0.0.0, aeTitle: LIMEN, tls: { certificateFile: limen.crt, privateKeyFile: limen.key } }',
          'remoteAEs:',
          '  - { aeTitle: CT_ROOM3, addresses: [10.20.30.41], route: ct }',
          '  - { aeTitle: PACS, addresses: [10.20.0.0/24, "fd00:20::/64"] }',
          '  - { aeTitle: ANYWHERE }',
          '  - { aeTitle: SECURE, tlsRequired: true }',
          `  - { aeTitle: PINNED, tlsCertificateSha256: ["${'AB:'.repeat(31)}AB"] }`,
          'routes:',
          '  ct: { stableSeconds: 5 }',
        ].join('\n'),
      ),
    );

    it('a listed AE from an allowed address gets its route', () => {
      const r = resolveCaller(hospital, { callingAETitle: 'CT_ROOM3', remoteAddress: '10.20.30.41' });
      expect(r.ok).to.equal(true);
      if (!r.ok) return;
      expect(r.routeName).to.equal('ct');
      expect(r.route.stableSeconds).to.equal(5);
      expect(r.remoteAE?.aeTitle).to.equal('CT_ROOM3');
    });

    it('matches CIDR blocks, IPv6, and IPv4 peers seen through an IPv6 socket', () => {
      for (const remoteAddress of ['10.20.0.7', '::ffff:10.20.0.200', 'fd00:20::1:2', 'FD00:0020:0000:0000::9']) {
        const r = resolveCaller(hospital, { callingAETitle: 'PACS', remoteAddress });
        expect(r.ok && r.routeName, remoteAddress).to.equal('default');
      }
      const viaMapped = resolveCaller(hospital, { callingAETitle: 'CT_ROOM3', remoteAddress: '::ffff:10.20.30.41' });
      expect(viaMapped.ok).to.equal(true);
    });

    it('a listed AE from another address is refused, and does not fall through to another route', () => {
      expect(resolveCaller(hospital, { callingAETitle: 'CT_ROOM3', remoteAddress: '10.20.30.42' })).to.deep.equal({ ok: false, reason: 'address-not-allowed' });
      expect(resolveCaller(hospital, { callingAETitle: 'PACS', remoteAddress: '10.20.1.7' })).to.deep.equal({ ok: false, reason: 'address-not-allowed' });
      expect(resolveCaller(hospital, { callingAETitle: 'PACS' })).to.deep.equal({ ok: false, reason: 'address-not-allowed' });
      expect(resolveCaller(hospital, { callingAETitle: 'PACS', remoteAddress: 'garbage' })).to.deep.equal({ ok: false, reason: 'address-not-allowed' });
    });

    it('a listed AE without addresses may call from anywhere', () => {
      const r = resolveCaller(hospital, { callingAETitle: 'ANYWHERE', remoteAddress: '192.0.2.1' });
      expect(r.ok && r.routeName).to.equal('default');
    });

    it('an unlisted AE is not recognized when no route accepts any caller', () => {
      expect(resolveCaller(hospital, { callingAETitle: 'STRANGER', remoteAddress: '10.20.30.41' })).to.deep.equal({
        ok: false,
        reason: 'calling-ae-not-recognized',
      });
    });

    it('AE titles compare without their padding spaces, but case matters', () => {
      expect(resolveCaller(hospital, { callingAETitle: 'CT_ROOM3        ', remoteAddress: '10.20.30.41' }).ok).to.equal(true);
      expect(resolveCaller(hospital, { callingAETitle: 'ct_room3', remoteAddress: '10.20.30.41' }).ok).to.equal(false);
    });

    it('a caller that requires TLS is refused on a plain association', () => {
      expect(resolveCaller(hospital, { callingAETitle: 'SECURE', remoteAddress: '10.0.0.1' })).to.deep.equal({ ok: false, reason: 'tls-required' });
      expect(resolveCaller(hospital, { callingAETitle: 'SECURE', remoteAddress: '10.0.0.1', tls: true }).ok).to.equal(true);
    });

    it('an AE bound to certificate fingerprints (written with colons, in capitals) comes over TLS with one of them', () => {
      const pinned = 'ab'.repeat(32);
      expect(hospital.remoteAEs.find((ae) => ae.aeTitle === 'PINNED')?.tlsCertificateSha256).to.deep.equal([pinned]);
      expect(resolveCaller(hospital, { callingAETitle: 'PINNED' })).to.deep.equal({ ok: false, reason: 'tls-required' });
      expect(resolveCaller(hospital, { callingAETitle: 'PINNED', tls: true })).to.deep.equal({ ok: false, reason: 'certificate-not-allowed' });
      expect(resolveCaller(hospital, { callingAETitle: 'PINNED', tls: true, peerCertificateSha256: 'cd'.repeat(32) })).to.deep.equal({ ok: false, reason: 'certificate-not-allowed' });
      expect(resolveCaller(hospital, { callingAETitle: 'PINNED', tls: true, peerCertificateSha256: pinned }).ok).to.equal(true);
    });

    it('refuses a called AE title that is not Limen\'s', () => {
      expect(resolveCaller(hospital, { callingAETitle: 'ANYWHERE', calledAETitle: 'OTHER' })).to.deep.equal({ ok: false, reason: 'called-ae-not-recognized' });
      expect(resolveCaller(hospital, { callingAETitle: 'ANYWHERE', calledAETitle: 'LIMEN ' }).ok).to.equal(true);
    });

    it('on the default loopback setup, any caller lands on the default route', () => {
      const config = expectConfig(loadYaml(''));
      const r = resolveCaller(config, { callingAETitle: 'STORESCU', remoteAddress: '127.0.0.1' });
      expect(r.ok).to.equal(true);
      if (!r.ok) return;
      expect(r.routeName).to.equal('default');
      expect(r.remoteAE).to.equal(undefined);
    });

    it('on loopback with listed AEs, a listed one gets its route, an unlisted one only the open route', () => {
      const closed = expectConfig(loadYaml('remoteAEs: [{ aeTitle: CT1 }]\n'));
      expect(resolveCaller(closed, { callingAETitle: 'CT1', remoteAddress: '127.0.0.1' }).ok).to.equal(true);
      expect(resolveCaller(closed, { callingAETitle: 'OTHER', remoteAddress: '127.0.0.1' })).to.deep.equal({ ok: false, reason: 'calling-ae-not-recognized' });

      const open = expectConfig(loadYaml('remoteAEs: [{ aeTitle: CT1, route: ct }]\nroutes:\n  ct: {}\n  research: { acceptAnyCaller: true }\n'));
      const listed = resolveCaller(open, { callingAETitle: 'CT1', remoteAddress: '127.0.0.1' });
      expect(listed.ok && listed.routeName).to.equal('ct');
      const other = resolveCaller(open, { callingAETitle: 'OTHER', remoteAddress: '127.0.0.1' });
      expect(other.ok && other.routeName).to.equal('research');
    });
  });
});
