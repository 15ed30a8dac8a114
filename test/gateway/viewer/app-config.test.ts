/**
 * The generated `app-config.js`, run as the browser runs it (in a VM context with a `window`),
 * and read back as the viewer reads `window.config`.
 */
import { expect } from 'chai';
import { runInNewContext } from 'node:vm';
import { LIMEN_PANELS, OPEN_RIGHT_PANEL, REVIEW_MODES, renderAppConfig, type ViewerConfigOptions } from '../../../gateway/viewer/index.js';

type Config = Record<string, any>;

function evaluate(options: ViewerConfigOptions, origin = 'https://limen.hospital.example'): Config {
  const window = { location: { origin } } as { location: { origin: string }; config?: Config };
  runInNewContext(renderAppConfig(options), { window });
  return JSON.parse(JSON.stringify(window.config));
}

const OPTIONS: ViewerConfigOptions = {
  basePath: '/viewer',
  dicomwebRoot: '/dicomweb',
  apiRoot: '/api/v1',
  extensionUrl: '/viewer/limen/limen-extension.js',
  signInUrl: '/viewer/sign-in',
};

describe('gateway/viewer: the generated viewer configuration', () => {
  it('has one DICOMweb data source on the same origin, WADO-RS rendering, bulk data, unquoted multipart types', () => {
    const config = evaluate(OPTIONS);
    expect(config.defaultDataSourceName).to.equal('limen');
    expect(config.dataSources).to.have.length(1);
    const [source] = config.dataSources;
    expect(source.namespace).to.equal('@ohif/extension-default.dataSourcesModule.dicomweb');
    expect(source.sourceName).to.equal('limen');
    const c = source.configuration;
    expect([c.qidoRoot, c.wadoRoot, c.wadoUriRoot]).to.deep.equal(Array(3).fill('https://limen.hospital.example/dicomweb'));
    expect(c.imageRendering).to.equal('wadors');
    expect(c.thumbnailRendering).to.equal('wadors');
    expect(c.bulkDataURI.enabled).to.equal(true);
    expect(c.omitQuotationForMultipartRequest).to.equal(true);
    expect(c.staticWado).to.equal(false);
  });

  it('routes under the sub-path, loads the extension by URL, adds its panels to every mode, opens them, and shows no tour over them', () => {
    const config = evaluate(OPTIONS);
    expect(config.routerBasename).to.equal('/viewer');
    expect(config.extensions).to.deep.equal(['/viewer/limen/limen-extension.js']);
    expect(config.modes).to.deep.equal([]);
    expect(config.customizationService).to.deep.equal({
      global: { 'ohif.tours': { $set: [] } },
      mode: { '*': { rightPanels: { $unshift: [...LIMEN_PANELS] } } },
    });
    expect(LIMEN_PANELS).to.deep.equal(['limen.panelModule.review', 'limen.panelModule.model3d']);
    expect(config.modesConfiguration, 'the right-hand panel opens in the reading modes').to.deep.equal({
      '@ohif/mode-longitudinal': { routes: { 0: { layoutInstance: { props: { rightPanelClosed: { $set: false } } } } } },
      '@ohif/mode-basic': { routes: { 0: { layoutInstance: { props: { rightPanelClosed: { $set: false } } } } } },
    });
    expect(Object.keys(config.modesConfiguration)).to.deep.equal([...REVIEW_MODES]);
    expect(config.modesConfiguration['@ohif/mode-basic']).to.deep.equal(OPEN_RIGHT_PANEL);
    expect(config.disableConfirmationPrompts, 'SEG hydrates without a prompt').to.equal(true);
    expect(config.limen).to.deep.equal({ apiRoot: '/api/v1', dicomwebRoot: '/dicomweb', basePath: '/viewer', signInUrl: '/viewer/sign-in' });
  });

  it('follows the page origin, and runs without the extension when it is not built', () => {
    const config = evaluate({ ...OPTIONS, extensionUrl: null, dicomwebRoot: '/pacs/dicomweb' }, 'http://127.0.0.1:8080');
    expect(config.dataSources[0].configuration.qidoRoot).to.equal('http://127.0.0.1:8080/pacs/dicomweb');
    expect(config.extensions).to.deep.equal([]);
    expect(config.customizationService).to.deep.equal({});
    expect(config.modesConfiguration).to.deep.equal({});
  });

  it('cannot be broken out of by a value (no "</script>" survives into the text)', () => {
    const text = renderAppConfig({ ...OPTIONS, apiRoot: '/api/</script><script>alert(1)</script>' });
    expect(text).to.not.include('</script>');
    expect(evaluate({ ...OPTIONS, apiRoot: '/api/</script>' }).limen.apiRoot).to.equal('/api/</script>');
  });
});
