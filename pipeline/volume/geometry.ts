/**
 * From frames scattered in patient space to one regular grid: sort along the slice normal (never
 * by InstanceNumber), then refuse anything a regular grid would misplace: another orientation,
 * pixel spacing or matrix, two slices in one place, a tilted stack, an uneven or gapped spacing.
 * Every refusal names the attribute and how far off it is.
 */
import { fail } from './errors.js';
import type { FrameRecord, Vec3 } from './instance.js';
import type { VolumeGeometry } from './types.js';

/** How far real series may stray from a perfect grid before they are refused. */
export interface GeometryTolerances {
  /** Largest angle between two slices' row (or column) directions, in degrees. */
  orientationDegrees: number;
  /** Largest relative difference between two slices' PixelSpacing values. */
  pixelSpacingRelative: number;
  /** A gap may differ from the median gap by this fraction of it ... */
  sliceGapRelative: number;
  /** ... or by this many millimetres, whichever is larger. */
  sliceGapMillimetres: number;
  /** Largest angle between the stack (first to last slice) and the slice normal, in degrees. */
  tiltDegrees: number;
  /** Largest sideways offset of any slice from the line along the normal through the first, in pixels. */
  inPlaneOffsetPixels: number;
}

export const DEFAULT_TOLERANCES: GeometryTolerances = {
  orientationDegrees: 0.1,
  pixelSpacingRelative: 1e-3,
  sliceGapRelative: 0.01,
  sliceGapMillimetres: 0.01,
  tiltDegrees: 0.1,
  inPlaneOffsetPixels: 0.5,
};

const dot = (a: readonly number[], b: readonly number[]): number => a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
const sub = (a: readonly number[], b: readonly number[]): Vec3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
const norm = (a: readonly number[]): number => Math.hypot(a[0], a[1], a[2]);
const cross = (a: readonly number[], b: readonly number[]): Vec3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const degrees = (radians: number): number => (radians * 180) / Math.PI;
const angle = (a: readonly number[], b: readonly number[]): number => degrees(Math.atan2(norm(cross(a, b)), dot(a, b)));
const fmt = (x: number, digits = 3): string => String(Number(x.toFixed(digits)));

/** The unit normal (row × column cosines) of an ImageOrientationPatient. */
export function sliceNormal(orientation: readonly number[]): Vec3 {
  const n = cross(orientation.slice(0, 3), orientation.slice(3, 6));
  const l = norm(n);
  return [n[0] / l, n[1] / l, n[2] / l];
}

/** Where a frame is, for messages: its instance (and frame number when multi-frame). */
function label(f: FrameRecord): string {
  return f.instance.numberOfFrames > 1 ? `instance ${f.instance.sopInstanceUID} frame ${f.frameIndex + 1}` : `instance ${f.instance.sopInstanceUID}`;
}

function checkOrientation(frames: FrameRecord[], tol: GeometryTolerances): void {
  const ref = frames[0].orientation;
  const r = ref.slice(0, 3);
  const c = ref.slice(3, 6);
  const offUnit = Math.max(Math.abs(norm(r) - 1), Math.abs(norm(c) - 1));
  const skew = Math.abs(90 - angle(r, c));
  if (offUnit > 1e-3 || skew > tol.orientationDegrees) {
    fail('inconsistent-geometry', `ImageOrientationPatient of ${label(frames[0])} is not two orthogonal unit vectors (${fmt(skew)}° from orthogonal)`, {
      attribute: 'ImageOrientationPatient',
      deviation: skew,
      sopInstanceUID: frames[0].instance.sopInstanceUID,
    });
  }
  let worst = 0;
  let at = frames[0];
  for (const f of frames) {
    const d = Math.max(angle(r, f.orientation.slice(0, 3)), angle(c, f.orientation.slice(3, 6)));
    if (d > worst) {
      worst = d;
      at = f;
    }
  }
  if (worst > tol.orientationDegrees) {
    fail('inconsistent-geometry', `ImageOrientationPatient differs by ${fmt(worst)}° between ${label(frames[0])} and ${label(at)} (tolerance ${tol.orientationDegrees}°): the series mixes orientations`, {
      attribute: 'ImageOrientationPatient',
      deviation: worst,
      sopInstanceUID: at.instance.sopInstanceUID,
    });
  }
}

function checkPixelSpacing(frames: FrameRecord[], tol: GeometryTolerances): void {
  const [refRow, refColumn] = frames[0].pixelSpacing;
  let worst = 0;
  let at = frames[0];
  for (const f of frames) {
    const d = Math.max(Math.abs(f.pixelSpacing[0] - refRow) / refRow, Math.abs(f.pixelSpacing[1] - refColumn) / refColumn);
    if (d > worst) {
      worst = d;
      at = f;
    }
  }
  if (worst > tol.pixelSpacingRelative) {
    fail('inconsistent-geometry', `PixelSpacing is ${at.pixelSpacing.join('\\')} mm in ${label(at)} but ${refRow}\\${refColumn} mm in ${label(frames[0])} (${fmt(worst * 100, 2)}% apart)`, {
      attribute: 'PixelSpacing',
      deviation: Math.max(Math.abs(at.pixelSpacing[0] - refRow), Math.abs(at.pixelSpacing[1] - refColumn)),
      sopInstanceUID: at.instance.sopInstanceUID,
    });
  }
}

/** The same instance (and frame) delivered twice is one slice, not a duplicate position. */
function withoutRepeats(frames: FrameRecord[]): FrameRecord[] {
  const seen = new Set<string>();
  return frames.filter((f) => {
    const key = `${f.instance.sopInstanceUID}#${f.frameIndex}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Sorted frames and the grid they make. */
export interface SortedGeometry {
  frames: FrameRecord[];
  geometry: VolumeGeometry;
}

/**
 * Sorts frames along the slice normal and checks that they form a regular grid. The frames must
 * already share Rows and Columns. Throws `inconsistent-geometry`, `gantry-tilt` or `too-few-slices`.
 */
export function sortAndCheck(input: FrameRecord[], columns: number, rows: number, tol: GeometryTolerances = DEFAULT_TOLERANCES): SortedGeometry {
  const unique = withoutRepeats(input);
  if (unique.length < 2) fail('too-few-slices', `${unique.length} slice: a volume needs at least 2 to know its slice spacing`);
  checkOrientation(unique, tol);
  checkPixelSpacing(unique, tol);
  const n = sliceNormal(unique[0].orientation);
  const keyed = unique.map((f) => ({ f, s: dot(f.position, n) }));
  keyed.sort((a, b) => a.s - b.s);
  const frames = keyed.map((k) => k.f);
  const gaps = keyed.slice(1).map((k, i) => k.s - keyed[i].s);
  const typical = median(gaps);
  const gapTolerance = Math.max(tol.sliceGapMillimetres, tol.sliceGapRelative * Math.abs(typical));

  for (let i = 0; i < gaps.length; i++) {
    if (gaps[i] <= gapTolerance) {
      fail('inconsistent-geometry', `${label(frames[i])} and ${label(frames[i + 1])} are at the same position along the slice normal (${fmt(keyed[i].s)} mm, ${fmt(gaps[i])} mm apart): duplicate slices`, {
        attribute: 'ImagePositionPatient',
        deviation: gaps[i],
        sopInstanceUID: frames[i + 1].instance.sopInstanceUID,
      });
    }
  }

  const first = frames[0].position;
  const last = frames[frames.length - 1].position;
  const stack = sub(last, first);
  const along = dot(stack, n);
  const sideways = norm(sub(stack, [n[0] * along, n[1] * along, n[2] * along]));
  const tilt = degrees(Math.atan2(sideways, Math.abs(along)));
  const pixel = Math.min(frames[0].pixelSpacing[0], frames[0].pixelSpacing[1]);
  if (tilt > tol.tiltDegrees || sideways > tol.inPlaneOffsetPixels * pixel) {
    fail('gantry-tilt', `slices are stacked ${fmt(tilt)}° off their normal (${fmt(sideways, 2)} mm sideways over ${fmt(Math.abs(along), 1)} mm; tolerance ${tol.tiltDegrees}°): gantry tilt, which a regular grid cannot represent`, {
      attribute: 'ImagePositionPatient',
      deviation: tilt,
    });
  }

  let worstGap = 0;
  let worstAt = 0;
  for (let i = 0; i < gaps.length; i++) {
    const d = Math.abs(gaps[i] - typical);
    if (d > worstGap) {
      worstGap = d;
      worstAt = i;
    }
  }
  if (worstGap > gapTolerance) {
    const g = gaps[worstAt];
    const missing = Math.round(g / typical) - 1;
    const hint = missing >= 1 && Math.abs(g - (missing + 1) * typical) <= gapTolerance ? `; about ${missing} slice${missing > 1 ? 's' : ''} missing there` : '';
    fail('inconsistent-geometry', `slice spacing is not uniform: ${fmt(g)} mm between ${label(frames[worstAt])} and ${label(frames[worstAt + 1])} (at ${fmt(keyed[worstAt].s)} and ${fmt(keyed[worstAt + 1].s)} mm along the normal), where the median gap is ${fmt(typical)} mm (tolerance ${fmt(gapTolerance)} mm)${hint}`, {
      attribute: 'ImagePositionPatient',
      deviation: worstGap,
      sopInstanceUID: frames[worstAt + 1].instance.sopInstanceUID,
    });
  }

  // A stack can be straight end to end and still wander in between.
  let worstOffset = 0;
  let offsetAt = frames[0];
  for (const f of frames) {
    const d = sub(f.position, first);
    const a = dot(d, n);
    const off = norm(sub(d, [n[0] * a, n[1] * a, n[2] * a]));
    if (off > worstOffset) {
      worstOffset = off;
      offsetAt = f;
    }
  }
  if (worstOffset > tol.inPlaneOffsetPixels * pixel) {
    fail('inconsistent-geometry', `${label(offsetAt)} is ${fmt(worstOffset, 2)} mm sideways of the slice stack (tolerance ${fmt(tol.inPlaneOffsetPixels * pixel, 2)} mm)`, {
      attribute: 'ImagePositionPatient',
      deviation: worstOffset,
      sopInstanceUID: offsetAt.instance.sopInstanceUID,
    });
  }

  const o = frames[0].orientation;
  return {
    frames,
    geometry: {
      dims: [columns, rows, frames.length],
      spacing: [frames[0].pixelSpacing[1], frames[0].pixelSpacing[0], along / (frames.length - 1)],
      origin: [first[0], first[1], first[2]],
      rowDirection: [o[0], o[1], o[2]],
      columnDirection: [o[3], o[4], o[5]],
      sliceDirection: n,
    },
  };
}
