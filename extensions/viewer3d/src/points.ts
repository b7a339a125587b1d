/** Point clouds in the scene: tiles of the server's quadtree (ai4geo_kernel.scene3d.point_tile) chosen by
 * the camera under a point budget, their positions and colours (RGB, ASPRS class or height) with the class
 * filter applied, drawn as deck.gl point-cloud layers. */
import { PointCloudLayer } from '@deck.gl/layers';
import { ASPRS_COLORS, classColor, ramp } from './colors';
import { ILodOptions, ITileKey, tileId } from './lod';
import { IPayload } from './payload';
import type { ILayerState } from './viewer';

/** The most points drawn for one cloud; loaded tiles beyond 1.5 times this are dropped (browser memory). */
export const POINT_BUDGET = 4_000_000;
/** The server's default tile_points, for payloads that do not say (inline notebook clouds). */
const TILE_POINTS = 150_000;

function payloadPoints(payload: IPayload): number {
  return (payload.arrays.positions as Float32Array).length / 3;
}

/**
 * How the shared tile selection (lod.selectTiles) refines a cloud: a tile holds on average
 * count / 4**(levels - 1) points (at most ``tile_points``), so the spacing of its points is about its width /
 * sqrt(that); a loaded tile costs its points, one not yet loaded the average. Points are drawn 2 px wide, so
 * a tile is refined while its points lie more than 1.5 px apart (the terrain's 3 px would leave gaps: a 5 M-point
 * cloud seen whole stayed at its 78,000-point first level).
 */
export function pointLod(state: ILayerState): ILodOptions {
  const tilePoints = state.info.tile_points || TILE_POINTS;
  const levels = state.info.levels || 1;
  const average = Math.max(1, Math.min(tilePoints, (state.info.count || tilePoints) / Math.pow(4, levels - 1)));
  return {
    samples: Math.sqrt(average),
    pixels: 1.5,
    budget: POINT_BUDGET,
    cost: (key: ITileKey) => {
      const payload = state.tiles.get(tileId(key));
      return payload ? payloadPoints(payload) : average;
    }
  };
}

/** The classes of a cloud when the server did not list them (inline clouds): those of its first tile. */
export function classesOf(payload: IPayload): string[] {
  const classes = payload.arrays.classes as Uint8Array | undefined;
  if (!classes) {
    return [];
  }
  const seen = new Set<number>();
  for (let i = 0; i < classes.length; i++) {
    seen.add(classes[i]);
  }
  return Array.from(seen).sort((a, b) => a - b).map(String);
}

/** Browser memory: when the loaded tiles hold more than 1.5 budgets, drop the finest ones not selected. */
export function dropPointTiles(state: ILayerState, selected: ITileKey[]): void {
  let total = 0;
  for (const payload of state.tiles.values()) {
    total += payloadPoints(payload);
  }
  if (total <= 1.5 * POINT_BUDGET) {
    return;
  }
  const keep = new Set(selected.map(tileId));
  const ids = Array.from(state.tiles.keys())
    .filter(id => !keep.has(id))
    .sort((a, b) => Number(b.split('/')[0]) - Number(a.split('/')[0]));
  for (const id of ids) {
    if (total <= POINT_BUDGET) {
      break;
    }
    total -= payloadPoints(state.tiles.get(id) as IPayload);
    state.tiles.delete(id);
  }
}

/** Positions and colours of one tile, keeping only the shown classes. */
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

/**
 * One PointCloudLayer per selected tile that is loaded (a cloud's levels add up: a tile and its ancestors
 * are all drawn); attributes cached per tile and class filter in ``cache``.
 */
export function pointLayers(
  state: ILayerState,
  common: any,
  cache: WeakMap<IPayload, { key: string; data: any }>,
  selected: ITileKey[]
): any[] {
  const key = state.classes ? Array.from(state.classes).join(',') : '*';
  const out: any[] = [];
  for (const tile of selected) {
    const id = tileId(tile);
    const payload = state.tiles.get(id);
    if (!payload) {
      continue;
    }
    let cached = cache.get(payload);
    if (!cached || cached.key !== key) {
      cached = { key, data: pointData(state, payload) };
      cache.set(payload, cached);
    }
    out.push(new PointCloudLayer({
      id: `${state.id}:${state.side}:points-${id}`,
      ...common,
      data: cached.data,
      pointSize: 2,
      sizeUnits: 'pixels',
      opacity: state.opacity,
      material: false
    }));
  }
  return out;
}
