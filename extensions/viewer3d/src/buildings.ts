/** Buildings in the scene: rows for deck.gl (one per footprint polygon, coloured by height or attribute),
 * their layers, and the attribute table shown when a building is clicked. */
import { SolidPolygonLayer } from '@deck.gl/layers';
import { classColor, el, ramp } from './colors';
import type { ILayerState } from './viewer';

/** One drawable row per footprint polygon of the shown buildings. */
export function buildingRows(state: ILayerState): any[] {
  const attribute = (state as any).classAttribute as string | undefined;
  const rows: any[] = [];
  let hmin = Infinity;
  let hmax = -Infinity;
  for (const f of state.buildings.features) {
    hmin = Math.min(hmin, f.top - f.base);
    hmax = Math.max(hmax, f.top - f.base);
  }
  const categories = state.allClasses;
  for (const feature of state.buildings.features) {
    if (state.classes && attribute && !state.classes.has(String(feature.attributes[attribute]))) {
      continue;
    }
    let color: [number, number, number];
    if (state.colorBy && state.colorBy !== 'height' && attribute) {
      color = classColor(categories.indexOf(String(feature.attributes[state.colorBy])) + 1);
    } else {
      color = ramp((feature.top - feature.base - hmin) / (hmax - hmin || 1));
    }
    for (const polygon of feature.polygons) {
      rows.push({
        feature,
        polygon: polygon.map((ring: number[][]) => ring.map(p => [p[0], p[1], feature.base])),
        color
      });
    }
  }
  return rows;
}

/** The deck.gl layers drawing ``rows`` (extruded footprints), pickable for the attribute table. */
export function buildingLayers(state: ILayerState, common: any, rows: any[]): any[] {
  return [
    new SolidPolygonLayer({
      id: `${state.id}:${state.side}:buildings`,
      ...common,
      data: rows,
      extruded: true,
      getPolygon: (d: any) => d.polygon,
      getElevation: (d: any) => d.feature.top - d.feature.base,
      getFillColor: (d: any) => d.color,
      opacity: state.opacity,
      pickable: true,
      autoHighlight: true,
      highlightColor: [255, 230, 0, 200]
    })
  ];
}

/** The attributes of a clicked building, as a table. */
export function attributeTable(feature: any): HTMLTableElement {
  const table = el('table', 'a4g-v3d-attribute-table');
  const rows: [string, unknown][] = [
    ['id', feature.id],
    ...Object.entries(feature.attributes as Record<string, unknown>).filter(([k]) => k !== 'id')
  ];
  rows.push(['base (m)', feature.base.toFixed(2)], ['top (m)', feature.top.toFixed(2)]);
  for (const [name, value] of rows) {
    const tr = el('tr');
    tr.append(el('th', '', name), el('td', '', String(value)));
    table.append(tr);
  }
  return table;
}
