/**
 * glTF/GLB meshes in the scene. A georeferenced mesh comes from the server already placed in the scene frame
 * (positions relative to the frame origin, absolute heights), so it overlays the DSM and the other layers; a
 * mesh without georeferencing comes in its own frame and is placed with its centre at the scene centre, its
 * base at the lowest height of the scene, and its layer row says so.
 */
import { SimpleMeshLayer } from '@deck.gl/mesh-layers';
import { el } from './colors';
import type { ILayerState } from './viewer';

/** Whether the server placed the mesh in the scene frame. */
export function meshPlaced(state: ILayerState): boolean {
  return !!(state.mesh?.meta?.georeferenced ?? (state.info as any).georeferenced);
}

/** The object a click on the mesh picks: shown in the attribute table like a building. */
function meshFeature(state: ILayerState): any {
  const meta = (state.mesh as any).meta || {};
  const info = state.info as any;
  return {
    id: meta.name || info.mesh_name || info.name,
    attributes: {
      file: info.name,
      triangles: meta.triangles,
      crs: info.mesh_crs || 'none (not georeferenced)'
    },
    base: meta.zmin ?? info.zmin,
    top: meta.zmax ?? info.zmax
  };
}

/** One pickable SimpleMeshLayer drawing the layer's mesh (see the module comment for its placement). */
export function meshLayer(state: ILayerState, common: any, zbase: number): any {
  const a = (state.mesh as any).arrays;
  const attributes: any = { positions: { value: a.positions, size: 3 }, colors: { value: a.colors, size: 3 } };
  if (a.normals) {
    attributes.normals = { value: a.normals, size: 3 };
  }
  let position: [number, number, number] = [0, 0, 0];
  if (!meshPlaced(state)) {
    const [w, s, e, n] = state.info.bounds;
    position = [-(w + e) / 2, -(s + n) / 2, zbase - state.info.zmin];
  }
  return new SimpleMeshLayer({
    id: `${state.id}:${state.side}:mesh`,
    ...common,
    data: [{ feature: meshFeature(state) }],
    getPosition: () => position,
    getColor: [255, 255, 255],
    opacity: state.opacity,
    pickable: true,
    autoHighlight: true,
    highlightColor: [255, 230, 0, 160],
    mesh: { attributes, indices: { value: a.indices, size: 1 } },
    updateTriggers: { getPosition: position.join(',') }
  });
}

/** The layer row's note for a mesh without georeferencing (null for a placed mesh or another kind). */
export function meshNote(state: ILayerState): HTMLElement | null {
  if (state.info.kind !== 'mesh' || meshPlaced(state)) {
    return null;
  }
  const note = el('div', 'a4g-v3d-note', 'not georeferenced: placed at the scene centre');
  note.title = 'no CESIUM_RTC, asset.extras crs/offset, metadata.xml or .prj sidecar was found';
  return note;
}
