/**
 * A GLB shaped like Limen's, parsed by three.js' GLTFLoader in Node: its segments with the SEG's
 * numbers, labels and colours; visibility and opacity change one segment only.
 */
import { expect } from 'chai';
import { Document, NodeIO } from '@gltf-transform/core';
import type { Mesh, MeshStandardMaterial } from 'three';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { ownMaterials, sceneSegments, setSegmentOpacity, setSegmentVisible } from '../../ohif-extension/src/glb-segments.js';
import { makeTestGlb, TEST_SEGMENTS, toArrayBuffer } from './support/glb.js';

const load = async (glb: Uint8Array) => (await new GLTFLoader().parseAsync(toArrayBuffer(glb), '')).scene;

describe('ohif-extension: segments of a GLB', () => {
  it('lists each segment with its number, label, sRGB colour and volume, in number order', async () => {
    const reversed = [...TEST_SEGMENTS].reverse();
    const segments = sceneSegments(await load(await makeTestGlb(reversed)));
    expect(segments.map((s) => ({ number: s.number, label: s.label, color: s.color, volumeMl: s.volumeMl, meshes: s.meshes.length }))).to.deep.equal([
      { number: 1, label: 'Liver', color: '#de7859', volumeMl: 1523.4, meshes: 1 },
      { number: 2, label: 'Spleen', color: '#9e5cc7', volumeMl: 187.25, meshes: 1 },
    ]);
  });

  it('takes the colour from the material when extras carry none, and every mesh is a segment without extras', async () => {
    const doc = new Document();
    const buffer = doc.createBuffer();
    const scene = doc.createScene();
    for (const [name, rgb] of [
      ['a', [1, 0, 0]],
      ['b', [0, 0, 1]],
    ] as const) {
      const pos = doc.createAccessor().setType('VEC3').setArray(new Float32Array([0, 0, 0, 1, 0, 0, 0, 1, 0])).setBuffer(buffer);
      const mat = doc.createMaterial(name).setBaseColorFactor([rgb[0], rgb[1], rgb[2], 1]);
      scene.addChild(doc.createNode(name).setMesh(doc.createMesh(name).addPrimitive(doc.createPrimitive().setAttribute('POSITION', pos).setMaterial(mat))));
    }
    const segments = sceneSegments(await load(await new NodeIO().writeBinary(doc)));
    expect(segments.map((s) => [s.number, s.label, s.color])).to.deep.equal([
      [1, 'a', '#ff0000'],
      [2, 'b', '#0000ff'],
    ]);
  });

  it('visibility and opacity change one segment, even where the file shares a material', async () => {
    const root = await load(await makeTestGlb());
    const segments = sceneSegments(root);
    // Make both share one material, as a glTF file may.
    const shared = (segments[0].meshes[0] as Mesh).material;
    (segments[1].meshes[0] as Mesh).material = shared;
    ownMaterials(segments);
    setSegmentOpacity(segments[0], 0.4);
    setSegmentVisible(segments[1], false);
    const [m0, m1] = [segments[0].meshes[0].material as MeshStandardMaterial, segments[1].meshes[0].material as MeshStandardMaterial];
    expect(m0).to.not.equal(m1);
    expect([m0.opacity, m0.transparent, m0.depthWrite]).to.deep.equal([0.4, true, false]);
    expect([m1.opacity, m1.transparent, m1.depthWrite]).to.deep.equal([1, false, true]);
    expect([segments[0].meshes[0].visible, segments[1].meshes[0].visible]).to.deep.equal([true, false]);
    setSegmentOpacity(segments[0], 7);
    expect([m0.opacity, m0.transparent, m0.depthWrite]).to.deep.equal([1, false, true]);
  });
});
