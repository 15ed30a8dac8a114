/**
 * The study listing QIDO-RS searches: kept while nothing arrives, brought up to date from the top
 * when something does, read again whole when that cannot be trusted or has grown old.
 */
import { expect } from 'chai';
import { LISTING_TTL_MS, StudyIndex } from '../../../gateway/dicomweb/study-index.js';
import type { DicomwebReadSource } from '../../../gateway/dicomweb/index.js';
import type { ListStudiesOptions, StudyPage, StudySummary } from '../../../storage/index.js';

/** Storage's listing as the index sees it: most recently received first, paged, counted. */
class FakeStorage {
  studies = new Map<string, StudySummary>();
  readRows = 0;

  put(uid: string, at: number, instances = 1, status: StudySummary['status'] = 'receiving'): void {
    this.studies.set(uid, {
      studyInstanceUID: uid, status, route: 'default', stableSeconds: 10, retentionDays: 30, seriesCount: 1, instanceCount: instances,
      firstReceivedAt: new Date(0), lastReceivedAt: new Date(at), expiresAt: null, completedAt: null, attributes: {},
    });
  }

  source(): DicomwebReadSource {
    return {
      listStudies: async (o: ListStudiesOptions = {}): Promise<StudyPage> => {
        const all = [...this.studies.values()].sort((a, b) => b.lastReceivedAt!.getTime() - a.lastReceivedAt!.getTime() || (a.studyInstanceUID < b.studyInstanceUID ? -1 : 1));
        const page = all.slice(o.offset ?? 0, (o.offset ?? 0) + (o.limit ?? 100));
        this.readRows += page.length;
        return { total: all.length, studies: page };
      },
    } as unknown as DicomwebReadSource;
  }
}

const uids = (xs: StudySummary[]) => xs.map((s) => s.studyInstanceUID);

describe('gateway/dicomweb study index', () => {
  let storage: FakeStorage;
  let now: number;
  let index: StudyIndex;

  beforeEach(() => {
    storage = new FakeStorage();
    for (let i = 0; i < 300; i++) storage.put(`2.25.${1000 + i}`, 1000 + i);
    now = 0;
    index = new StudyIndex(storage.source(), () => now);
  });

  it('reads everything once, then only the probe while nothing arrives', async () => {
    expect(await index.studies()).to.have.length(300);
    storage.readRows = 0;
    await index.studies();
    await index.studies();
    expect(storage.readRows).to.equal(2);
  });

  it('brings the listing up to date from the top: a new study, and an older one that got an instance', async () => {
    await index.studies();
    storage.put('2.25.9', 5000);
    storage.put('2.25.1005', 5001, 2);
    storage.readRows = 0;
    const listed = await index.studies();
    expect(uids(listed).slice(0, 3)).to.deep.equal(['2.25.1005', '2.25.9', '2.25.1299']);
    expect(listed).to.have.length(301);
    expect(listed.find((s) => s.studyInstanceUID === '2.25.1005')!.instanceCount).to.equal(2);
    expect(uids(listed).filter((u) => u === '2.25.1005')).to.have.length(1);
    expect(storage.readRows).to.be.lessThan(60);
    // The same as reading everything again.
    expect(uids(listed)).to.deep.equal(uids(await new StudyIndex(storage.source()).studies()));
  });

  it('reads everything again when a study is gone, and after the time to live', async () => {
    await index.studies();
    storage.studies.delete('2.25.1100');
    storage.put('2.25.9', 5000);
    expect(uids(await index.studies())).to.not.include('2.25.1100');
    storage.studies.get('2.25.1200')!.status = 'expired'; // invisible to the probe
    expect(uids(await index.studies())).to.include('2.25.1200');
    now += LISTING_TTL_MS;
    expect(uids(await index.studies())).to.not.include('2.25.1200');
  });
});
