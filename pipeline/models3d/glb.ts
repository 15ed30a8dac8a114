/**
 * GLB writer: one node and one mesh per segment, named by the segment label, with the segment's
 * colour as its material and its identity in `extras`. Metres and glTF axes (see `axes.ts`).
 */
import { Document, NodeIO } from '@gltf-transform/core';
import { vertexNormals } from '../mesh/index.js';
import { lpsToGltfDirections, lpsToGltfPositions } from './axes.js';
import { srgbToLinear } from './color.js';
import { compressGlbWithMeshopt } from './meshopt-compression.js';
import type { ModelProvenance, ModelSegment } from './types.js';

/** Options for `encodeGlb`. */
export interface GlbOptions {
  /**
   * Compress vertex and index data with EXT_meshopt_compression (required extension: viewers
   * need the meshopt decoder, three.js has one). Default false.
   */
  readonly meshoptCompression?: boolean;
}

/** The axis convention, stated in the file itself for whoever opens it. */
export const GLTF_AXES_NOTE = 'metres; x = patient left, y = patient superior, z = patient anterior (from DICOM LPS: x, z, -y)';

/**
 * Encodes the segments as one GLB. Each node's `extras`: segmentNumber, segmentLabel, the
 * segment's category, type (and anatomic region) codes, volumeMl, modelId, modelVersion and
 * studyInstanceUID; the scene's `extras` repeat the model and study and state the axes.
 * A segment with an empty mesh still gets its node (without a mesh), so the file lists every segment.
 */
export async function encodeGlb(segments: readonly ModelSegment[], provenance: ModelProvenance, options: GlbOptions = {}): Promise<Uint8Array> {
  const doc = new Document();
  doc.getRoot().getAsset().generator = 'Limen';
  const buffer = doc.createBuffer();
  const scene = doc.createScene('segments').setExtras({
    modelId: provenance.modelId,
    modelVersion: provenance.modelVersion,
    studyInstanceUID: provenance.studyInstanceUID,
    axes: GLTF_AXES_NOTE,
  });
  doc.getRoot().setDefaultScene(scene);
  for (const segment of segments) {
    const node = doc.createNode(segment.label).setExtras({
      segmentNumber: segment.segmentNumber,
      segmentLabel: segment.label,
      segmentedPropertyCategory: { ...segment.category },
      segmentedPropertyType: { ...segment.type },
      ...(segment.anatomicRegion ? { anatomicRegion: { ...segment.anatomicRegion } } : {}),
      volumeMl: segment.volumeMl,
      displayColorSRGB: [...segment.color],
      modelId: provenance.modelId,
      modelVersion: provenance.modelVersion,
      studyInstanceUID: provenance.studyInstanceUID,
    });
    scene.addChild(node);
    if (segment.mesh.indices.length === 0) continue;
    const [r, g, b] = segment.color;
    const material = doc
      .createMaterial(segment.label)
      .setBaseColorFactor([srgbToLinear(r), srgbToLinear(g), srgbToLinear(b), 1])
      .setMetallicFactor(0)
      .setRoughnessFactor(0.6);
    const normals = segment.normals ?? vertexNormals(segment.mesh);
    const position = doc.createAccessor().setType('VEC3').setArray(lpsToGltfPositions(segment.mesh.positions)).setBuffer(buffer);
    const normal = doc.createAccessor().setType('VEC3').setArray(lpsToGltfDirections(normals)).setBuffer(buffer);
    const indices = doc.createAccessor().setType('SCALAR').setArray(new Uint32Array(segment.mesh.indices)).setBuffer(buffer);
    const primitive = doc.createPrimitive().setAttribute('POSITION', position).setAttribute('NORMAL', normal).setIndices(indices).setMaterial(material);
    node.setMesh(doc.createMesh(segment.label).addPrimitive(primitive));
  }
  const glb = await new NodeIO().writeBinary(doc);
  return options.meshoptCompression === true ? compressGlbWithMeshopt(glb) : glb;
}
