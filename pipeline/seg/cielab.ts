/**
 * sRGB ↔ RecommendedDisplayCIELabValue (PS3.3 C.10.7.1.1: L* 0..100 → 0..65535, a* and b*
 * −128..127 → 0..65535). Conversions use the D65 white point, as dcmqi writes and dcmjs (hence
 * OHIF) reads these values, so the colour a viewer shows is the colour the manifest gave, and the
 * same as the GLB material's.
 */

const WHITE_D65 = [0.95047, 1.0, 1.08883] as const;

const toLinear = (c: number): number => (c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4));
const toGamma = (c: number): number => (c <= 0.0031308 ? 12.92 * c : 1.055 * Math.pow(c, 1 / 2.4) - 0.055);

const EPSILON = 216 / 24389;
const KAPPA = 24389 / 27;
const f = (t: number): number => (t > EPSILON ? Math.cbrt(t) : (KAPPA * t + 16) / 116);
const fInverse = (t: number): number => (t * t * t > EPSILON ? t * t * t : (116 * t - 16) / KAPPA);

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/** sRGB (0..255 per channel) to DICOM-scaled CIELab. */
export function srgbToDicomLab(rgb: readonly [number, number, number]): [number, number, number] {
  const [r, g, b] = rgb.map((c) => toLinear(clamp(c, 0, 255) / 255));
  const x = 0.4124564 * r + 0.3575761 * g + 0.1804375 * b;
  const y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
  const z = 0.0193339 * r + 0.119192 * g + 0.9503041 * b;
  const fx = f(x / WHITE_D65[0]);
  const fy = f(y / WHITE_D65[1]);
  const fz = f(z / WHITE_D65[2]);
  const L = 116 * fy - 16;
  const A = 500 * (fx - fy);
  const B = 200 * (fy - fz);
  return [
    Math.round(clamp(L, 0, 100) * (65535 / 100)),
    Math.round(clamp(A + 128, 0, 255) * (65535 / 255)),
    Math.round(clamp(B + 128, 0, 255) * (65535 / 255)),
  ];
}

/** DICOM-scaled CIELab to sRGB (0..255 per channel), for readers that display it. */
export function dicomLabToSrgb(lab: readonly [number, number, number]): [number, number, number] {
  const L = (lab[0] * 100) / 65535;
  const A = (lab[1] * 255) / 65535 - 128;
  const B = (lab[2] * 255) / 65535 - 128;
  const fy = (L + 16) / 116;
  const x = WHITE_D65[0] * fInverse(fy + A / 500);
  const y = WHITE_D65[1] * fInverse(fy);
  const z = WHITE_D65[2] * fInverse(fy - B / 200);
  const r = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
  const g = -0.969266 * x + 1.8760108 * y + 0.041556 * z;
  const b = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
  return [r, g, b].map((c) => Math.round(clamp(toGamma(clamp(c, 0, 1)), 0, 1) * 255)) as [number, number, number];
}
