/** Point clouds in the scene: per level, positions and colours (RGB, ASPRS class or height) with the
 * class filter applied, drawn as deck.gl point-cloud layers. */
import { PointCloudLayer } from '@deck.gl/layers';
import { ASPRS_COLORS, classColor, ramp } from './colors';
import { IPayload } from './payload';
import type { ILayerState } from './viewer';

/** Positions and colours of one level, keeping only the shown classes. */
export function pointData(state: ILayerState, payload: IPayload): any {
  const positions = payload.arrays.positions as Float32Array;
  const classes = payload.arrays.classes as Uint8Array | undefined;
  const rgb = payload.arrays.rgb as Uint8Array | undefined;
  const n = positions.length / 3;
  const keep = state.classes && classes ? state.classes : null;
  let count = n;
  let pos = positions;
  let index: Int32Array | null = null;
  if (keep && classes) {
    index = new Int32Array(n);
    count = 0;
    for (let i = 0; i < n; i++) {
      if (keep.has(String(classes[i]))) {
        index[count++] = i;
      }
    }
    pos = new Float32Array(count * 3);
    for (let j = 0; j < count; j++) {
      const i = index[j];
      pos[j * 3] = positions[i * 3];
      pos[j * 3 + 1] = positions[i * 3 + 1];
      pos[j * 3 + 2] = positions[i * 3 + 2];
    }
  }
  const colors = new Uint8Array(count * 3);
  const [zmin, zmax] = [state.info.zmin, state.info.zmax];
  for (let j = 0; j < count; j++) {
    const i = index ? index[j] : j;
    const c: [number, number, number] = rgb
      ? [rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]]
      : classes ? classColor(classes[i], ASPRS_COLORS) : ramp((positions[i * 3 + 2] - zmin) / (zmax - zmin || 1));
    colors[j * 3] = c[0];
    colors[j * 3 + 1] = c[1];
    colors[j * 3 + 2] = c[2];
  }
  return { length: count, attributes: { getPosition: { value: pos, size: 3 }, getColor: { value: colors, size: 3 } } };
}

/** One PointCloudLayer per loaded level (attributes cached per level and class filter in ``cache``). */
export function pointLayers(
  state: ILayerState,
  common: any,
  cache: WeakMap<IPayload, { key: string; data: any }>
): any[] {
  const key = state.classes ? Array.from(state.classes).join(',') : '*';
  return state.pointLevels.map((payload, level) => {
    let cached = cache.get(payload);
    if (!cached || cached.key !== key) {
      cached = { key, data: pointData(state, payload) };
      cache.set(payload, cached);
    }
    return new PointCloudLayer({
      id: `${state.id}:${state.side}:level-${level}`,
      ...common,
      data: cached.data,
      pointSize: 2,
      sizeUnits: 'pixels',
      opacity: state.opacity,
      material: false
    });
  });
}
