/**
 * Finding and overlaying the reviewed SEG. The OHIF services are small in-memory versions with
 * the same methods and events, so the order the overlay follows can be checked: wait for the SEG
 * display set, its CT, and a viewport that has drawn the CT, load the SEG, then add it to that
 * viewport. They change the way OHIF does on entering a study: the extension starts before any
 * display set or viewport exists, and a viewport becomes ready without an event.
 */
import { expect } from 'chai';
import { findSegDisplaySet, overlaySeg, viewportShowing, type DisplaySetLike, type GridViewport, type OverlayServices, type RepresentationLike } from '../../ohif-extension/src/seg-overlay.js';
import { waitUntil } from '../../ohif-extension/src/wait.js';

const SEG = { seriesInstanceUID: '2.25.9.1', sopInstanceUID: '2.25.9.1.1' };
const FAST = { timeoutMs: 2000, pollMs: 5 };

function ds(uid: string, Modality: string, SeriesInstanceUID: string, extra: Partial<DisplaySetLike> = {}): DisplaySetLike {
  return { displaySetInstanceUID: uid, Modality, SeriesInstanceUID, StudyInstanceUID: '2.25.9', ...extra };
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

/** An in-memory OHIF: display sets, the viewport grid, cornerstone viewports, segmentations. */
function ohif(options: { addsRepresentation?: boolean } = {}) {
  const log: string[] = [];
  const sets: DisplaySetLike[] = [];
  const listeners = new Map<string, Set<(e: unknown) => void>>();
  const on = (event: string, cb: (e: unknown) => void) => {
    if (!listeners.has(event)) listeners.set(event, new Set());
    listeners.get(event)!.add(cb);
    return { unsubscribe: () => void listeners.get(event)!.delete(cb) };
  };
  const emit = (event: string) => [...(listeners.get(event) ?? [])].forEach((cb) => cb({}));
  const grid = { activeViewportId: null as string | null, viewports: new Map<string, GridViewport>() };
  const drawn = new Map<string, string | undefined>();
  const segmentations = new Set<string>();
  const representations = new Map<string, RepresentationLike[]>();

  const services: OverlayServices = {
    displaySetService: {
      getActiveDisplaySets: () => sets,
      getDisplaySetByUID: (uid) => sets.find((s) => s.displaySetInstanceUID === uid),
      subscribe: on,
      EVENTS: { DISPLAY_SETS_ADDED: 'ds-added', DISPLAY_SETS_CHANGED: 'ds-changed' },
    },
    viewportGridService: {
      getActiveViewportId: () => grid.activeViewportId,
      getState: () => grid,
      subscribe: on,
      EVENTS: { GRID_STATE_CHANGED: 'grid', VIEWPORTS_READY: 'ready', ACTIVE_VIEWPORT_ID_CHANGED: 'active' },
    },
    cornerstoneViewportService: {
      getCornerstoneViewport: (id) => (drawn.has(id) ? { getCurrentImageId: () => drawn.get(id) } : undefined),
      subscribe: on,
      EVENTS: { VIEWPORT_DATA_CHANGED: 'cs-data' },
    },
    segmentationService: {
      getSegmentationRepresentations: (viewportId, filter) => (representations.get(viewportId) ?? []).filter((r) => !filter?.segmentationId || r.segmentationId === filter.segmentationId),
      addSegmentationRepresentation: async (viewportId, { segmentationId }) => {
        log.push(`add:${segmentationId}@${viewportId}`);
        // As OHIF: a segmentation that was never loaded is not added.
        if (!segmentations.has(segmentationId) || options.addsRepresentation === false) return;
        representations.set(viewportId, [...(representations.get(viewportId) ?? []), { segmentationId, segments: { 1: {}, 2: {} } }]);
      },
      setSegmentLocked: (segmentationId, index, locked) => void log.push(`lock:${segmentationId}:${index}:${locked}`),
    },
    customizationService: { getCustomization: (id) => (id === 'panelSegmentation.disableEditing' ? true : undefined) },
  };
  const commands = {
    runCommand: (name: string, opts?: Record<string, unknown>) => void log.push(`${name}:${(opts?.displaySet as DisplaySetLike).displaySetInstanceUID}:${opts?.type}`),
  };
  const segDs = (extra: Partial<DisplaySetLike> = {}) =>
    ds('seg', 'SEG', SEG.seriesInstanceUID, {
      SOPInstanceUID: SEG.sopInstanceUID,
      load: async () => {
        log.push('load:seg');
        segmentations.add('seg');
      },
      ...extra,
    });
  return {
    services,
    commands,
    log,
    segDs,
    addDisplaySets(...d: DisplaySetLike[]) {
      sets.push(...d);
      emit('ds-added');
    },
    changeDisplaySet(uid: string, change: Partial<DisplaySetLike>) {
      Object.assign(sets.find((s) => s.displaySetInstanceUID === uid)!, change);
      emit('ds-changed');
    },
    layout(viewports: GridViewport[], active: string) {
      grid.viewports = new Map(viewports.map((v) => [v.viewportId, v]));
      grid.activeViewportId = active;
      emit('grid');
    },
    /** A React state change in OHIF: no event. */
    markReady(viewportId: string) {
      grid.viewports.set(viewportId, { ...grid.viewports.get(viewportId)!, isReady: true });
    },
    /** The cornerstone viewport gets its data; `null`: an enabled element with no image yet. */
    draw(viewportId: string, imageId: string | null = 'wadors:ct/1') {
      drawn.set(viewportId, imageId ?? undefined);
      emit('cs-data');
    },
  };
}

describe('ohif-extension: overlaying the reviewed SEG', () => {
  it('finds the SEG display set of the reviewed series, preferring the reviewed instance', () => {
    const sets = [ds('ct', 'CT', '2.25.9.0'), ds('seg-old', 'SEG', SEG.seriesInstanceUID, { SOPInstanceUID: '2.25.9.1.0' }), ds('seg', 'SEG', SEG.seriesInstanceUID, { SOPInstanceUID: SEG.sopInstanceUID })];
    expect(findSegDisplaySet(sets, SEG)?.displaySetInstanceUID).to.equal('seg');
    expect(findSegDisplaySet(sets, { seriesInstanceUID: SEG.seriesInstanceUID })?.displaySetInstanceUID).to.equal('seg-old');
    expect(findSegDisplaySet(sets, { seriesInstanceUID: '2.25.404' })).to.equal(null);
    expect(findSegDisplaySet([ds('ct', 'CT', SEG.seriesInstanceUID)], SEG), 'only SEG modality').to.equal(null);
  });

  it('picks the viewport that shows the CT and has drawn it, the active one first', () => {
    const all = () => true;
    const grid = (active: string | null, ...vs: GridViewport[]) => ({ activeViewportId: active, viewports: new Map(vs.map((v) => [v.viewportId, v])) });
    const a = { viewportId: 'a', displaySetInstanceUIDs: ['ct'], isReady: true };
    const b = { viewportId: 'b', displaySetInstanceUIDs: ['ct'], isReady: true };
    const other = { viewportId: 'o', displaySetInstanceUIDs: ['mr'], isReady: true };
    expect(viewportShowing(grid('b', a, b), 'ct', all)).to.equal('b');
    expect(viewportShowing(grid('o', other, b), 'ct', all), 'active shows another series').to.equal('b');
    expect(viewportShowing(grid(null, a), 'ct', all)).to.equal('a');
    expect(viewportShowing(grid('a', { ...a, isReady: false }), 'ct', all), 'not ready').to.equal(null);
    expect(viewportShowing(grid('a', a), 'ct', () => false), 'not drawn').to.equal(null);
    expect(viewportShowing(grid('o', other), 'ct', all)).to.equal(null);
    expect(viewportShowing(grid(null), 'ct', all), 'no layout yet').to.equal(null);
  });

  it('started before OHIF has display sets or a viewport (was "no-viewport"), it waits for both, then loads the SEG and adds it, once', async () => {
    const o = ohif();
    let outcome: unknown;
    const pending = overlaySeg(o.services, o.commands, SEG, FAST).then((r) => (outcome = r));
    await tick();
    // The study's metadata arrives: the SEG's reference is resolved once the CT is added.
    o.addDisplaySets(o.segDs());
    await tick();
    o.addDisplaySets(ds('ct', 'CT', '2.25.9.0'));
    o.changeDisplaySet('seg', { referencedDisplaySetInstanceUID: 'ct' });
    await tick();
    // The hanging protocol lays out one viewport with the CT; it becomes ready, then draws.
    o.layout([{ viewportId: 'default', displaySetInstanceUIDs: ['ct'] }], 'default');
    await tick();
    o.markReady('default');
    await tick();
    expect(outcome, 'not before the viewport has drawn the CT').to.equal(undefined);
    expect(o.log).to.deep.equal([]);
    o.draw('default', null);
    await tick();
    expect(outcome, 'an enabled element without an image is not drawn').to.equal(undefined);
    o.draw('default');
    expect(await pending).to.deep.equal({ ok: true, segDisplaySetInstanceUID: 'seg', viewportId: 'default', alreadyShown: false });
    expect(o.log).to.deep.equal([
      'load:seg',
      'updateStoredSegmentationPresentation:seg:Labelmap',
      'add:seg@default',
      'lock:seg:1:true',
      'lock:seg:2:true',
    ]);
    expect(await overlaySeg(o.services, o.commands, SEG, FAST)).to.deep.include({ ok: true, alreadyShown: true });
    expect(o.log).to.have.length(5);
  });

  it('overlays in the viewport showing the CT when the active one shows another series', async () => {
    const o = ohif();
    o.addDisplaySets(ds('ct', 'CT', '2.25.9.0'), ds('mr', 'MR', '2.25.9.2'), o.segDs({ referencedDisplaySetInstanceUID: 'ct' }));
    o.layout(
      [
        { viewportId: 'left', displaySetInstanceUIDs: ['mr'], isReady: true },
        { viewportId: 'right', displaySetInstanceUIDs: ['ct'], isReady: true },
      ],
      'left',
    );
    o.draw('left');
    o.draw('right');
    expect(await overlaySeg(o.services, o.commands, SEG, FAST)).to.deep.include({ ok: true, viewportId: 'right' });
  });

  it('reports a study without the SEG, a load that fails, a viewer that does not add it, and leaving the mode, as data', async () => {
    const none = ohif();
    none.addDisplaySets(ds('ct', 'CT', '2.25.9.0'));
    expect(await overlaySeg(none.services, none.commands, SEG, { timeoutMs: 30, pollMs: 5 })).to.deep.include({ ok: false, code: 'no-seg' });

    const ready = (o: ReturnType<typeof ohif>) => {
      o.addDisplaySets(ds('ct', 'CT', '2.25.9.0'));
      o.layout([{ viewportId: 'default', displaySetInstanceUIDs: ['ct'], isReady: true }], 'default');
      o.draw('default');
      return o;
    };
    const broken = ready(ohif());
    broken.addDisplaySets(broken.segDs({ referencedDisplaySetInstanceUID: 'ct', load: async () => Promise.reject(new Error('WADO-RS 500')) }));
    const failed = await overlaySeg(broken.services, broken.commands, SEG, FAST);
    expect(failed).to.deep.include({ ok: false, code: 'load-failed' });
    expect((failed as { message: string }).message).to.include('WADO-RS 500');
    expect(broken.log).to.deep.equal([]);

    const refusing = ready(ohif({ addsRepresentation: false }));
    refusing.addDisplaySets(refusing.segDs({ referencedDisplaySetInstanceUID: 'ct' }));
    expect(await overlaySeg(refusing.services, refusing.commands, SEG, FAST), 'checked, not assumed').to.deep.include({ ok: false, code: 'not-shown' });

    const noViewport = ohif();
    noViewport.addDisplaySets(ds('ct', 'CT', '2.25.9.0'), noViewport.segDs({ referencedDisplaySetInstanceUID: 'ct' }));
    expect(await overlaySeg(noViewport.services, noViewport.commands, SEG, { timeoutMs: 40, pollMs: 5 })).to.deep.include({ ok: false, code: 'no-viewport' });

    const leaving = new AbortController();
    const waiting = overlaySeg(noViewport.services, noViewport.commands, SEG, { ...FAST, signal: leaving.signal });
    await tick();
    leaving.abort();
    expect(await waiting).to.deep.include({ ok: false, code: 'cancelled' });
    expect(noViewport.log).to.deep.equal([]);
  });
});

describe('ohif-extension: waiting for the viewer', () => {
  it('re-checks on the events given and on the poll, and gives null after the timeout', async () => {
    const listeners = new Set<(e: unknown) => void>();
    const service = { subscribe: (_e: string, cb: (e: unknown) => void) => (listeners.add(cb), { unsubscribe: () => void listeners.delete(cb) }) };
    let value: string | null = null;
    let checks = 0;
    const byEvent = waitUntil(() => (checks++, value), [{ service, events: ['changed', undefined] }], { timeoutMs: 5000, pollMs: 60_000 });
    value = 'ready';
    [...listeners].forEach((cb) => cb({}));
    expect(await byEvent).to.equal('ready');
    expect(listeners.size, 'unsubscribed').to.equal(0);
    expect(checks).to.equal(2);

    let polled: number | null = null;
    setTimeout(() => (polled = 7), 20);
    expect(await waitUntil(() => polled, [], { timeoutMs: 5000, pollMs: 5 })).to.equal(7);
    expect(await waitUntil(() => null, [], { timeoutMs: 20, pollMs: 5 })).to.equal(null);
    expect(
      await waitUntil(
        () => {
          throw new Error('not yet');
        },
        [],
        { timeoutMs: 20, pollMs: 5 },
      ),
      'a throwing check is "not yet"',
    ).to.equal(null);
  });
});
