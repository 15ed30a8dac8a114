/**
 * Finding and overlaying the reviewed SEG. The OHIF services are small in-memory versions with
 * the same methods and events, so the order the overlay follows can be checked: wait for the SEG
 * display set and for the viewports, load the SEG, then hydrate it into the active viewport.
 */
import { expect } from 'chai';
import { findSegDisplaySet, overlaySeg, type DisplaySetLike, type OverlayServices } from '../../ohif-extension/src/seg-overlay.js';

const SEG = { seriesInstanceUID: '2.25.9.1', sopInstanceUID: '2.25.9.1.1' };

function ds(uid: string, Modality: string, SeriesInstanceUID: string, extra: Partial<DisplaySetLike> = {}): DisplaySetLike {
  return { displaySetInstanceUID: uid, Modality, SeriesInstanceUID, StudyInstanceUID: '2.25.9', ...extra };
}

function ohif(initial: DisplaySetLike[], viewportsReady = true) {
  const sets = [...initial];
  const listeners = new Map<string, Set<(e: unknown) => void>>();
  const on = (event: string, cb: (e: unknown) => void) => {
    if (!listeners.has(event)) listeners.set(event, new Set());
    listeners.get(event)!.add(cb);
    return { unsubscribe: () => listeners.get(event)!.delete(cb) };
  };
  const emit = (event: string) => [...(listeners.get(event) ?? [])].forEach((cb) => cb({}));
  let ready = viewportsReady;
  const shown: string[] = [];
  const log: string[] = [];
  const services: OverlayServices = {
    displaySetService: {
      getActiveDisplaySets: () => sets,
      getDisplaySetByUID: (uid) => sets.find((s) => s.displaySetInstanceUID === uid),
      subscribe: on,
      EVENTS: { DISPLAY_SETS_ADDED: 'added' },
    },
    viewportGridService: {
      getActiveViewportId: () => 'default',
      getGridViewportsReady: () => ready,
      subscribe: on,
      EVENTS: { VIEWPORTS_READY: 'ready' },
    },
    segmentationService: { getSegmentationRepresentations: (_vp, f) => shown.filter((id) => id === f?.segmentationId) },
  };
  const commands = {
    runCommand: (name: string, options?: Record<string, unknown>) => {
      log.push(`${name}:${(options?.displaySet as DisplaySetLike).displaySetInstanceUID}@${options?.viewportId}`);
      shown.push((options?.displaySet as DisplaySetLike).displaySetInstanceUID);
    },
  };
  return {
    services,
    commands,
    log,
    add(d: DisplaySetLike) {
      sets.push(d);
      emit('added');
    },
    setReady() {
      ready = true;
      emit('ready');
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

  it('waits for the SEG and the viewports, loads the SEG, then hydrates it into the active viewport, once', async () => {
    const loads: string[] = [];
    const o = ohif([ds('ct', 'CT', '2.25.9.0')], false);
    const pending = overlaySeg(o.services, o.commands, SEG, { timeoutMs: 2000 });
    setTimeout(() => o.add(ds('seg', 'SEG', SEG.seriesInstanceUID, { SOPInstanceUID: SEG.sopInstanceUID, referencedDisplaySetInstanceUID: 'ct', load: async () => void loads.push('seg') })), 20);
    setTimeout(() => o.setReady(), 60);
    expect(await pending).to.deep.equal({ ok: true, segDisplaySetInstanceUID: 'seg', viewportId: 'default', alreadyShown: false });
    expect(loads).to.deep.equal(['seg']);
    expect(o.log).to.deep.equal(['hydrateSecondaryDisplaySet:seg@default']);
    expect(await overlaySeg(o.services, o.commands, SEG)).to.deep.include({ ok: true, alreadyShown: true });
    expect(o.log).to.have.length(1);
  });

  it('reports a study without the SEG, and a load that fails, as data', async () => {
    const none = ohif([ds('ct', 'CT', '2.25.9.0')]);
    expect(await overlaySeg(none.services, none.commands, SEG, { timeoutMs: 30 })).to.deep.include({ ok: false, code: 'no-seg' });
    const broken = ohif([ds('seg', 'SEG', SEG.seriesInstanceUID, { referencedDisplaySetInstanceUID: 'ct', load: async () => Promise.reject(new Error('WADO-RS 500')) })]);
    const outcome = await overlaySeg(broken.services, broken.commands, SEG, { timeoutMs: 30 });
    expect(outcome).to.deep.include({ ok: false, code: 'load-failed' });
    expect((outcome as { message: string }).message).to.include('WADO-RS 500');
    expect(broken.log).to.deep.equal([]);
  });
});
