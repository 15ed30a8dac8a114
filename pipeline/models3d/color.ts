/** Colour conversions for model materials. */

/** One sRGB-encoded component (0..1) to linear light, as glTF's baseColorFactor expects. */
export function srgbToLinear(c: number): number {
  return c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
}
