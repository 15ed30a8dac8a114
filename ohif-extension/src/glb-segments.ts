/**
 * The segments of a Limen GLB as three.js loads it: one node per segment, named by its label,
 * with `segmentNumber`, `segmentLabel` and `displayColorSRGB` in its glTF `extras` (three.js puts
 * extras in `userData`), and its colour as the material's base colour. Plain functions over
 * three.js objects: they run in Node as well as in the viewer.
 */
import { Color, Mesh, SRGBColorSpace, type Material, type Object3D } from 'three';

export interface SceneSegment {
  /** The SEG SegmentNumber (from extras), or the node's order when a GLB has no extras. */
  number: number;
  label: string;
  /** `#rrggbb`, sRGB: the colour the SEG and the material share. */
  color: string;
  meshes: Mesh[];
  volumeMl?: number;
}

interface SegmentExtras {
  segmentNumber?: unknown;
  segmentLabel?: unknown;
  displayColorSRGB?: unknown;
  volumeMl?: unknown;
}

/** The segments of a loaded GLB scene, by segment number. Nodes without a mesh are listed too (empty segments). */
export function sceneSegments(root: Object3D): SceneSegment[] {
  const segments: SceneSegment[] = [];
  const claimed = new Set<Object3D>();
  let order = 0;
  root.traverse((node) => {
    const extras = node.userData as SegmentExtras;
    if (typeof extras.segmentNumber !== 'number') return;
    const meshes: Mesh[] = [];
    node.traverse((n) => {
      if (n instanceof Mesh && !claimed.has(n)) {
        meshes.push(n);
        claimed.add(n);
      }
    });
    segments.push({
      number: extras.segmentNumber,
      label: typeof extras.segmentLabel === 'string' ? extras.segmentLabel : node.name,
      color: segmentColor(extras.displayColorSRGB, meshes),
      meshes,
      ...(typeof extras.volumeMl === 'number' ? { volumeMl: extras.volumeMl } : {}),
    });
  });
  if (segments.length > 0) return segments.sort((a, b) => a.number - b.number);
  // A GLB from elsewhere: every mesh is a segment, in file order.
  root.traverse((n) => {
    if (n instanceof Mesh) segments.push({ number: ++order, label: n.name || `Segment ${order}`, color: segmentColor(undefined, [n]), meshes: [n] });
  });
  return segments;
}

function segmentColor(srgb: unknown, meshes: Mesh[]): string {
  if (Array.isArray(srgb) && srgb.length >= 3 && srgb.every((v) => typeof v === 'number')) {
    const unit = srgb.every((v) => v <= 1);
    const c = new Color();
    c.setRGB(unit ? srgb[0] : srgb[0] / 255, unit ? srgb[1] : srgb[1] / 255, unit ? srgb[2] : srgb[2] / 255, SRGBColorSpace);
    return `#${c.getHexString(SRGBColorSpace)}`;
  }
  const material = materialsOf(meshes[0])[0] as (Material & { color?: Color }) | undefined;
  return material?.color ? `#${material.color.getHexString(SRGBColorSpace)}` : '#cccccc';
}

export function materialsOf(mesh: Mesh | undefined): Material[] {
  if (!mesh) return [];
  return Array.isArray(mesh.material) ? mesh.material : [mesh.material];
}

/**
 * Gives every segment mesh a material of its own, so that changing one segment's opacity never
 * changes another's (glTF files may share materials).
 */
export function ownMaterials(segments: readonly SceneSegment[]): void {
  for (const s of segments) {
    for (const mesh of s.meshes) mesh.material = Array.isArray(mesh.material) ? mesh.material.map((m) => m.clone()) : mesh.material.clone();
  }
}

export function setSegmentVisible(segment: SceneSegment, visible: boolean): void {
  for (const mesh of segment.meshes) mesh.visible = visible;
}

/** Opacity 0–1. Below 1 the material blends and stops writing depth, so what is behind shows through. */
export function setSegmentOpacity(segment: SceneSegment, opacity: number): void {
  const o = Math.max(0, Math.min(1, opacity));
  for (const mesh of segment.meshes) {
    for (const m of materialsOf(mesh)) {
      m.opacity = o;
      m.transparent = o < 1;
      m.depthWrite = o >= 1;
      m.needsUpdate = true;
    }
  }
}
