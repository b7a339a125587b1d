/** Buildings in the scene, from the server's A4G3 payload (ai4geo_kernel.scene3d.buildings_payload):
 * LOD0/LOD1 footprints extruded from base to top, LOD2+ buildings drawn with their own wall and roof
 * surfaces (3D polygons tessellated in their plane); colours by height or attribute, the class filter,
 * and the attribute table shown when a building is clicked. Positions stay in the payload's Float32Array:
 * each drawn polygon is a view on it, no nested coordinate lists are built. */
import { SolidPolygonLayer } from '@deck.gl/layers';
import { classColor, el, ramp } from './colors';
import { IPayload } from './payload';
import type { ILayerState } from './viewer';

/** polygon_type codes (ai4geo_kernel.io.citymodel.SURFACE_TYPES) */
const FOOTPRINT = 0;
/** light for shading LOD2 surfaces by their normal (from the south-west, above) */
const LIGHT = (() => {
  const v = [-0.45, -0.55, 0.7];
  const n = Math.hypot(v[0], v[1], v[2]);
  return v.map(c => c / n);
})();

/** One building: its attributes, heights, the level of detail drawn and its footprint polygons. */
export class BuildingFeature {
  constructor(
    private readonly _data: IBuildings,
    readonly index: number,
    readonly id: string,
    readonly attributes: Record<string, unknown>,
    readonly base: number,
    readonly top: number,
    readonly lod: number
  ) {}

  /** Footprint rings as [[x, y], ...] (closed), for code that wants coordinates of one building. */
  get polygons(): number[][][][] {
    const a = this._data.payload.arrays;
    const out: number[][][][] = [];
    for (const p of this._data.footprints[this.index] || []) {
      const rings: number[][][] = [];
      for (let r = a.polygon_offsets[p]; r < a.polygon_offsets[p + 1]; r++) {
        const ring: number[][] = [];
        for (let v = a.ring_offsets[r]; v < a.ring_offsets[r + 1]; v++) {
          ring.push([a.positions[v * 3], a.positions[v * 3 + 1]]);
        }
        ring.push(ring[0]);
        rings.push(ring);
      }
      out.push(rings);
    }
    return out;
  }
}

export interface IBuildings {
  features: BuildingFeature[];
  numeric: string[];
  categorical: string[];
  /** every level of detail in the data, and how many buildings are drawn at each */
  lods: string[];
  drawn: Record<string, number>;
  /** per building, its footprint polygons (indices into the payload's polygons) */
  footprints: number[][];
  payload: IPayload;
}

/** The buildings of a payload: one feature per building, the arrays kept as they came. */
export function decodeBuildings(payload: IPayload): IBuildings {
  const meta = payload.meta;
  const a = payload.arrays;
  const count: number = meta.count;
  const columns = Object.keys(meta.attributes || {});
  const data: IBuildings = {
    features: [],
    numeric: meta.numeric || [],
    categorical: meta.categorical || [],
    lods: meta.lods || [],
    drawn: meta.drawn || {},
    footprints: [],
    payload
  };
  for (let i = 0; i < count; i++) {
    const attributes: Record<string, unknown> = {};
    for (const c of columns) {
      attributes[c] = meta.attributes[c][i];
    }
    data.features.push(new BuildingFeature(data, i, String(meta.ids[i]), attributes, a.base[i], a.top[i], a.lod[i]));
    data.footprints.push([]);
  }
  const owner = a.polygon_building;
  const type = a.polygon_type;
  for (let p = 0; p < owner.length; p++) {
    if (type[p] === FOOTPRINT) {
      data.footprints[owner[p]].push(p);
    }
  }
  return data;
}

/** Polygon ``p`` as deck.gl's flat form: a view on the positions, and its holes' start indices. */
function flatPolygon(a: IPayload['arrays'], p: number): any {
  const first = a.ring_offsets[a.polygon_offsets[p]];
  const last = a.ring_offsets[a.polygon_offsets[p + 1]];
  const positions = (a.positions as Float32Array).subarray(first * 3, last * 3);
  const holes: number[] = [];
  for (let r = a.polygon_offsets[p] + 1; r < a.polygon_offsets[p + 1]; r++) {
    holes.push((a.ring_offsets[r] - first) * 3);
  }
  return holes.length ? { positions, holeIndices: holes } : positions;
}

/** Rows for deck.gl, [extruded footprints, LOD2 surfaces], for the shown buildings in their colours. */
export function buildingRows(state: ILayerState): any[] {
  const data = state.buildings as IBuildings;
  const attribute = (state as any).classAttribute as string | undefined;
  let hmin = Infinity;
  let hmax = -Infinity;
  for (const f of data.features) {
    hmin = Math.min(hmin, f.top - f.base);
    hmax = Math.max(hmax, f.top - f.base);
  }
  const categories = state.allClasses;
  const colors: ([number, number, number] | null)[] = data.features.map(feature => {
    if (state.classes && attribute && !state.classes.has(String(feature.attributes[attribute]))) {
      return null;
    }
    if (state.colorBy && state.colorBy !== 'height' && attribute) {
      return classColor(categories.indexOf(String(feature.attributes[state.colorBy])) + 1);
    }
    return ramp((feature.top - feature.base - hmin) / (hmax - hmin || 1));
  });
  const a = data.payload.arrays;
  const extruded: any[] = [];
  const surfaces: any[] = [];
  for (let p = 0; p < a.polygon_building.length; p++) {
    const feature = data.features[a.polygon_building[p]];
    const color = colors[feature.index];
    if (!color) {
      continue;
    }
    if (feature.lod < 2) {
      if (a.polygon_type[p] === FOOTPRINT) {
        extruded.push({ feature, polygon: flatPolygon(a, p), color });
      }
    } else if (a.polygon_type[p] !== FOOTPRINT) {
      const n = a.polygon_normal;
      const light = Math.max(0, n[p * 3] * LIGHT[0] + n[p * 3 + 1] * LIGHT[1] + n[p * 3 + 2] * LIGHT[2]);
      const shade = 0.5 + 0.5 * light;
      surfaces.push({ feature, polygon: flatPolygon(a, p), color: color.map(c => c * shade) });
    }
  }
  return [extruded, surfaces];
}

/** The deck.gl layers drawing ``rows`` (from buildingRows), pickable for the attribute table. */
export function buildingLayers(state: ILayerState, common: any, rows: any[]): any[] {
  const [extruded, surfaces] = rows;
  const shared = {
    ...common,
    getPolygon: (d: any) => d.polygon,
    getFillColor: (d: any) => d.color,
    opacity: state.opacity,
    pickable: true,
    autoHighlight: true,
    highlightColor: [255, 230, 0, 200]
  };
  const layers: any[] = [];
  if (extruded.length) {
    layers.push(
      new SolidPolygonLayer({
        id: `${state.id}:${state.side}:buildings`,
        ...shared,
        data: extruded,
        extruded: true,
        getElevation: (d: any) => d.feature.top - d.feature.base
      })
    );
  }
  if (surfaces.length) {
    layers.push(
      new SolidPolygonLayer({
        id: `${state.id}:${state.side}:buildings-lod2`,
        ...shared,
        data: surfaces,
        extruded: false,
        _full3d: true,
        material: false
      } as any)
    );
  }
  return layers;
}

/** The levels of detail drawn, for the layers panel: the highest of each building. */
export function buildingSummary(state: ILayerState): HTMLDivElement {
  const data = state.buildings as IBuildings;
  const drawn = Object.entries(data.drawn)
    .sort(([a], [b]) => Number(b) - Number(a))
    .map(([lod, n]) => `LOD${lod}: ${n}`)
    .join(', ');
  const text = data.lods.length > 1 ? `drawn at the highest LOD (${drawn}; file has LOD ${data.lods.join(', ')})` : `${drawn}`;
  const node = el('div', 'a4g-v3d-lods', text);
  node.dataset.drawn = JSON.stringify(data.drawn);
  return node;
}

/** The attributes of a clicked building, as a table. */
export function attributeTable(feature: BuildingFeature): HTMLTableElement {
  const table = el('table', 'a4g-v3d-attribute-table');
  const rows: [string, unknown][] = [
    ['id', feature.id],
    ...Object.entries(feature.attributes).filter(([k]) => k !== 'id')
  ];
  rows.push(['base (m)', feature.base.toFixed(2)], ['top (m)', feature.top.toFixed(2)]);
  for (const [name, value] of rows) {
    const tr = el('tr');
    tr.append(el('th', '', name), el('td', '', String(value)));
    table.append(tr);
  }
  return table;
}
