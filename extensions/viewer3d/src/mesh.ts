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

/** What loadMeshLevels asks of the viewer. */
export interface IMeshLevelHooks {
  /** redraw the scene and the layers panel after a level replaced the mesh */
  draw: () => void;
  /** show a line in the status bar */
  status: (text: string) => void;
  /** whether the layer is still in the scene (a removed layer stops loading) */
  wanted: () => boolean;
}

/**
 * Load a mesh by level of detail: level 0 (the server's coarsest decimation) is fetched and drawn before this
 * resolves; the finer levels, up to the full mesh, are then fetched one after the other, each replacing the
 * mesh drawn so far, with the progress in the status line. A mesh under the server's first budget has one
 * level, fetched whole (no level asked: inline scenes have no levels either).
 */
export async function loadMeshLevels(
  state: ILayerState,
  fetchLevel: (level?: number) => Promise<any>,
  hooks: IMeshLevelHooks
): Promise<void> {
  const counts = (state.info as any).level_triangles as number[] | undefined;
  const levels = counts && counts.length > 1 ? counts.length : 1;
  state.meshLevels = [];
  const show = (payload: any, level: number): void => {
    state.mesh = payload;
    state.meshLevels!.push(level);
    hooks.draw();
    if (levels > 1) {
      const done = level === levels - 1;
      hooks.status(
        `${state.info.name}: mesh level ${level + 1}/${levels}, ${payload.meta?.triangles} triangles` +
          (done ? '' : `; loading level ${level + 2} (≤ ${counts![level + 1]} triangles)…`)
      );
    }
  };
  if (levels === 1) {
    show(await fetchLevel(), 0);
    return;
  }
  hooks.status(`${state.info.name}: loading mesh level 1/${levels} (≤ ${counts![0]} triangles)…`);
  show(await fetchLevel(0), 0);
  void (async () => {
    for (let level = 1; level < levels && hooks.wanted(); level++) {
      try {
        const payload = await fetchLevel(level);
        if (hooks.wanted()) {
          show(payload, level);
        }
      } catch (error) {
        hooks.status(`${state.info.name}: mesh level ${level + 1}/${levels} failed: ${error}`);
        return;
      }
    }
  })();
}
