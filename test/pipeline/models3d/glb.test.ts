import { NodeIO } from '@gltf-transform/core';
import { expect } from 'chai';
import validator from 'gltf-validator';
import { MeshoptDecoder } from 'meshoptimizer';
import { encodeGlb, parseGlb, srgbToLinear, type ModelSegment } from '../../../pipeline/models3d/index.js';
import { sampleSegments, signedVolume } from './fixtures.js';

const provenance = { modelId: 'limen-bone-skin', modelVersion: '1.2.0', studyInstanceUID: '2.25.301234567890123456789012345678901234' };

describe('pipeline/models3d encodeGlb', () => {
  let segments: ModelSegment[];
  let glb: Uint8Array;

  before(async () => {
    segments = await sampleSegments();
    glb = await encodeGlb(segments, provenance);
  });

  it('passes the Khronos glTF validator with no errors and no warnings', async () => {
    const report = await validator.validateBytes(glb);
    expect(report.issues.numErrors, JSON.stringify(report.issues.messages)).to.equal(0);
    expect(report.issues.numWarnings, JSON.stringify(report.issues.messages)).to.equal(0);
  });

  it('has one node per segment, named by its label, with its identity in extras', async () => {
    const doc = await new NodeIO().readBinary(glb);
    const nodes = doc.getRoot().listNodes();
    expect(nodes.map((n) => n.getName())).to.deep.equal(['Bone', 'Bone marrow', 'Nothing found']);
    nodes.forEach((node, i) => {
      const extras = node.getExtras() as Record<string, unknown>;
      expect(extras).to.include({ segmentNumber: i + 1, segmentLabel: segments[i].label, volumeMl: segments[i].volumeMl, ...provenance });
      expect(extras.segmentedPropertyType).to.deep.equal(segments[i].type);
      expect(extras.segmentedPropertyCategory).to.deep.equal(segments[i].category);
    });
    expect((nodes[1].getExtras() as Record<string, unknown>).anatomicRegion).to.deep.equal(segments[1].anatomicRegion);
    expect(nodes[2].getMesh(), 'empty segment has no mesh').to.equal(null);
    expect(doc.getRoot().listScenes()[0].getExtras()).to.include(provenance);
  });

  it('colours each mesh with the segment colour (sRGB converted to linear)', async () => {
    const doc = await new NodeIO().readBinary(glb);
    for (const [i, node] of doc.getRoot().listNodes().slice(0, 2).entries()) {
      const material = node.getMesh()!.listPrimitives()[0].getMaterial()!;
      expect(material.getName()).to.equal(segments[i].label);
      const [r, g, b, a] = material.getBaseColorFactor();
      const [sr, sg, sb] = segments[i].color;
      expect([r, g, b, a].map((x) => Math.round(x * 1e5))).to.deep.equal([srgbToLinear(sr), srgbToLinear(sg), srgbToLinear(sb), 1].map((x) => Math.round(x * 1e5)));
    }
  });

  it('stores metres on glTF axes: x = L, y = S, z = A (= −P), normals unit and still outward', async () => {
    const doc = await new NodeIO().readBinary(glb);
    for (const [i, node] of doc.getRoot().listNodes().slice(0, 2).entries()) {
      const primitive = node.getMesh()!.listPrimitives()[0];
      const position = primitive.getAttribute('POSITION')!.getArray() as Float32Array;
      const normal = primitive.getAttribute('NORMAL')!.getArray() as Float32Array;
      const indices = primitive.getIndices()!.getArray() as Uint32Array;
      const lps = segments[i].mesh.positions;
      expect(position.length).to.equal(lps.length);
      for (let v = 0; v < lps.length; v += 3 * 97) {
        expect(position[v]).to.be.closeTo(lps[v] / 1000, 1e-7);
        expect(position[v + 1]).to.be.closeTo(lps[v + 2] / 1000, 1e-7);
        expect(position[v + 2]).to.be.closeTo(-lps[v + 1] / 1000, 1e-7);
      }
      for (let v = 0; v < normal.length; v += 3) expect(Math.hypot(normal[v], normal[v + 1], normal[v + 2])).to.be.closeTo(1, 1e-5);
      // A proper rotation keeps the winding: the enclosed volume stays positive (m³ = mL · 1e-6).
      expect(signedVolume(position, indices)).to.be.closeTo(segments[i].volumeMl * 1e-6, segments[i].volumeMl * 1e-9);
      // And the mapped LPS normals agree with the glTF geometry: each normal points out of its centroid side.
      let agree = 0;
      const c = [0, 1, 2].map((a) => position.filter((_, k) => k % 3 === a).reduce((s, x) => s + x, 0) / (position.length / 3));
      for (let v = 0; v < position.length; v += 3) {
        const d = (position[v] - c[0]) * normal[v] + (position[v + 1] - c[1]) * normal[v + 1] + (position[v + 2] - c[2]) * normal[v + 2];
        if (d > 0) agree++;
      }
      if (i === 1) expect(agree).to.equal(position.length / 3); // the marrow ball is convex
    }
  });

  it('with meshopt compression: validator reports no errors, and the decoded buffers equal the uncompressed ones', async () => {
    const compressed = await encodeGlb(segments, provenance, { meshoptCompression: true });
    expect(compressed.length).to.be.lessThan(glb.length);
    const report = await validator.validateBytes(compressed);
    expect(report.issues.numErrors, JSON.stringify(report.issues.messages)).to.equal(0);

    const plain = parseGlb(glb);
    const packed = parseGlb(compressed);
    expect(packed.json.extensionsRequired).to.include('EXT_meshopt_compression');
    await MeshoptDecoder.ready;
    const views = packed.json.bufferViews!;
    let compressedViews = 0;
    views.forEach((view, i) => {
      const original = plain.json.bufferViews![i];
      const expected = plain.bin!.subarray(original.byteOffset ?? 0, (original.byteOffset ?? 0) + original.byteLength);
      const ext = view.extensions?.EXT_meshopt_compression as { byteOffset: number; byteLength: number; byteStride: number; count: number; mode: string } | undefined;
      if (ext === undefined) {
        expect(view.buffer).to.equal(0);
        expect(Array.from(packed.bin!.subarray(view.byteOffset ?? 0, (view.byteOffset ?? 0) + view.byteLength))).to.deep.equal(Array.from(expected));
        return;
      }
      compressedViews++;
      expect(view.buffer, 'uncompressed layout refers to the fallback buffer').to.equal(1);
      const decoded = new Uint8Array(ext.count * ext.byteStride);
      MeshoptDecoder.decodeGltfBuffer(decoded, ext.count, ext.byteStride, packed.bin!.subarray(ext.byteOffset, ext.byteOffset + ext.byteLength), ext.mode);
      if (ext.mode === 'TRIANGLES') {
        // The index codec may rotate a triangle's vertices (never its winding): compare rotations.
        const canonical = (bytes: Uint8Array): number[] => {
          const t = new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
          const out: number[] = [];
          for (let k = 0; k < t.length; k += 3) {
            const r = t[k] < t[k + 1] && t[k] < t[k + 2] ? 0 : t[k + 1] < t[k + 2] ? 1 : 2;
            out.push(t[k + r], t[k + ((r + 1) % 3)], t[k + ((r + 2) % 3)]);
          }
          return out;
        };
        expect(canonical(decoded), `view ${i}`).to.deep.equal(canonical(expected));
      } else {
        expect(Buffer.from(decoded).equals(Buffer.from(expected)), `view ${i} (${ext.mode})`).to.equal(true);
      }
    });
    expect(compressedViews).to.be.greaterThan(0);
  });
});
