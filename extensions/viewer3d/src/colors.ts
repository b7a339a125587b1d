/** Colours of the scene (height ramp, land-cover and ASPRS class palettes) and a DOM helper. */
/** Land cover / ASPRS class colours (value -> RGB 0-255). */
export const CLASS_COLORS: Record<number, [number, number, number]> = {
  1: [220, 60, 50], 2: [150, 150, 150], 3: [30, 120, 40], 4: [140, 200, 90], 5: [50, 110, 220],
  6: [200, 170, 120], 9: [50, 110, 220], 11: [150, 150, 150]
};
const RAMP: [number, [number, number, number]][] = [
  [0, [40, 90, 160]], [0.25, [60, 150, 80]], [0.5, [200, 190, 110]], [0.75, [150, 100, 60]], [1, [250, 250, 250]]
];

export function ramp(t: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, isFinite(t) ? t : 0));
  for (let i = 1; i < RAMP.length; i++) {
    if (v <= RAMP[i][0]) {
      const [t0, c0] = RAMP[i - 1];
      const [t1, c1] = RAMP[i];
      const f = (v - t0) / (t1 - t0);
      return [0, 1, 2].map(k => c0[k] + f * (c1[k] - c0[k])) as [number, number, number];
    }
  }
  return RAMP[RAMP.length - 1][1];
}

/** ASPRS LAS classes (2 ground, 3-5 vegetation, 6 building, 9 water, 11 road). */
export const ASPRS_COLORS: Record<number, [number, number, number]> = {
  1: [180, 180, 180], 2: [170, 130, 90], 3: [150, 210, 100], 4: [80, 170, 60], 5: [30, 110, 40],
  6: [220, 60, 50], 7: [255, 0, 255], 9: [50, 110, 220], 11: [150, 150, 150], 17: [230, 200, 60]
};

export function classColor(value: number, palette = CLASS_COLORS): [number, number, number] {
  return palette[value] || [((value * 67) % 200) + 40, ((value * 131) % 200) + 40, ((value * 29) % 200) + 40];
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', text = ''): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text) {
    node.textContent = text;
  }
  return node;
}

