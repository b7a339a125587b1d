/**
 * Notebook outputs of ai4geo_kernel.viz.show3d (application/vnd.ai4geo.scene3d+json): the same viewer,
 * its layers embedded in the output (decimated by the kernel), so it renders offline under any base URL.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';
import { fromBase64, IPayload, unpack } from './payload';
import { IFrame, ILayerInfo, ISceneSource } from './source';
import { SceneViewer } from './viewer';

export const MIME_TYPE = 'application/vnd.ai4geo.scene3d+json';

interface IInlineLayer {
  info: ILayerInfo;
  data?: string;
  levels?: string[];
  /** base64 A4G3 buildings payload */
  buildings?: string;
  /** where the layer is drawn when two dates are compared */
  side?: 'both' | 'left' | 'right';
}

/** Layers already in the output: one terrain tile, point levels, buildings JSON, a mesh. */
class InlineSource implements ISceneSource {
  private _layers = new Map<string, IInlineLayer>();
  constructor(layers: IInlineLayer[]) {
    for (const layer of layers) {
      this._layers.set(layer.info.path, layer);
    }
  }
  private _get(path: string): IInlineLayer {
    const layer = this._layers.get(path);
    if (!layer) {
      throw new Error(`no layer ${path}`);
    }
    return layer;
  }
  async info(path: string): Promise<ILayerInfo> {
    return this._get(path).info;
  }
  async terrain(path: string): Promise<IPayload> {
    return unpack(fromBase64(this._get(path).data as string));
  }
  async points(path: string, level: number): Promise<IPayload> {
    return unpack(fromBase64((this._get(path).levels as string[])[level]));
  }
  async buildings(path: string, frame: IFrame): Promise<IPayload> {
    void frame;
    return unpack(fromBase64(this._get(path).buildings as string));
  }
  async mesh(path: string): Promise<IPayload> {
    return unpack(fromBase64(this._get(path).data as string));
  }
}

class SceneOutput extends Widget implements IRenderMime.IRenderer {
  private _viewer: SceneViewer | null = null;
  constructor() {
    super();
    this.addClass('a4g-viewer3d-output');
  }
  async renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const scene = model.data[MIME_TYPE] as any;
    this._viewer?.dispose();
    this.node.replaceChildren();
    const viewer = new SceneViewer(new InlineSource(scene.layers));
    this._viewer = viewer;
    this.node.style.height = `${scene.height || 520}px`;
    this.node.append(viewer.node);
    viewer.frame = scene.frame as IFrame;
    viewer.setCompare(scene.compare || 'off');
    for (const layer of scene.layers as IInlineLayer[]) {
      await viewer.addLayer(layer.info.path, { side: layer.side || 'both' });
    }
  }
  dispose(): void {
    this._viewer?.dispose();
    super.dispose();
  }
}

const extension: IRenderMime.IExtension = {
  id: '@ai4geo/viewer3d:mime',
  rendererFactory: { safe: true, mimeTypes: [MIME_TYPE], createRenderer: () => new SceneOutput() },
  rank: 0,
  dataType: 'json'
};

export default extension;
