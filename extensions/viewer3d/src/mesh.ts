/** glTF/GLB meshes in the scene. */
import { SimpleMeshLayer } from '@deck.gl/mesh-layers';
import type { ILayerState } from './viewer';

/** One SimpleMeshLayer drawing the layer's mesh, its base placed at ``zbase``. */
export function meshLayer(state: ILayerState, common: any, zbase: number): any {
  const a = (state.mesh as any).arrays;
  const attributes: any = { positions: { value: a.positions, size: 3 }, colors: { value: a.colors, size: 3 } };
  if (a.normals) {
    attributes.normals = { value: a.normals, size: 3 };
  }
  return new SimpleMeshLayer({
    id: `${state.id}:${state.side}:mesh`,
    ...common,
    data: [0],
    getPosition: () => [0, 0, zbase],
    getColor: [255, 255, 255],
    opacity: state.opacity,
    mesh: { attributes, indices: { value: a.indices, size: 1 } }
  });
}
