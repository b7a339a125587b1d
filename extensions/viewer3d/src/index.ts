/**
 * AI4GEO 3D viewer: "Open With > 3D Viewer" for DSM/DTM GeoTIFFs, CityJSON/CityGML, glTF/GLB and point
 * clouds (LAS/LAZ/PLY), drawn with deck.gl (bundled, no CDN) from the Jupyter server's /ai4geo/scene3d.
 */
import { JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ABCWidgetFactory, DocumentRegistry, DocumentWidget, TextModelFactory } from '@jupyterlab/docregistry';
import { Contents } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';
import { ServerSource } from './source';
import { SceneViewer } from './viewer';

const FACTORY = '3D Viewer';
const MODEL = 'ai4geo-scene3d';

/** A model that never loads the file's content: the server streams what the viewer draws. */
class SceneModelFactory extends TextModelFactory {
  get name(): string {
    return MODEL;
  }
  get fileFormat(): Contents.FileFormat {
    return null;
  }
}

/** A Lab widget around the scene viewer, opened on one file (more layers are added from its panel). */
export class Viewer3D extends Widget {
  readonly viewer: SceneViewer;
  constructor(path: string) {
    super();
    this.addClass('a4g-viewer3d-widget');
    this.viewer = new SceneViewer(new ServerSource());
    this.node.append(this.viewer.node);
    this.viewer.addLayer(path).catch(error => {
      this.viewer.node.dataset.error = String(error);
      this.viewer.node.append(Object.assign(document.createElement('div'), {
        className: 'a4g-v3d-error', textContent: String(error)
      }));
    });
  }
  dispose(): void {
    this.viewer.dispose();
    super.dispose();
  }
}

class Viewer3DFactory extends ABCWidgetFactory<DocumentWidget<Viewer3D>> {
  protected createNewWidget(context: DocumentRegistry.Context): DocumentWidget<Viewer3D> {
    const content = new Viewer3D(context.path);
    const widget = new DocumentWidget({ content, context });
    widget.addClass('a4g-viewer3d-document');
    widget.title.iconClass = 'jp-ImageIcon';
    return widget;
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: '@ai4geo/viewer3d:plugin',
  description: 'AI4GEO 3D viewer (deck.gl) for DSMs, buildings, meshes and point clouds.',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    const registry = app.docRegistry;
    const types = [
      { name: 'geotiff', displayName: 'GeoTIFF', extensions: ['.tif', '.tiff'], mimeTypes: ['image/tiff'], contentType: 'file', fileFormat: 'base64' },
      { name: 'cityjson', displayName: 'CityJSON', extensions: ['.city.json', '.cityjson'], mimeTypes: ['application/city+json'], contentType: 'file', fileFormat: 'text' },
      { name: 'citygml', displayName: 'CityGML', extensions: ['.gml'], mimeTypes: ['application/gml+xml'], contentType: 'file', fileFormat: 'text' },
      { name: 'gltf', displayName: 'glTF', extensions: ['.glb', '.gltf'], mimeTypes: ['model/gltf-binary'], contentType: 'file', fileFormat: 'base64' },
      { name: 'point-cloud', displayName: 'Point cloud', extensions: ['.las', '.laz', '.ply'], mimeTypes: ['application/vnd.las'], contentType: 'file', fileFormat: 'base64' }
    ] as DocumentRegistry.IFileType[];
    for (const fileType of types) {
      if (!registry.getFileType(fileType.name)) {
        registry.addFileType(fileType);
      }
    }
    registry.addModelFactory(new SceneModelFactory());
    registry.addWidgetFactory(new Viewer3DFactory({
      name: FACTORY,
      label: '3D Viewer',
      modelName: MODEL,
      fileTypes: ['geotiff', 'cityjson', 'citygml', 'gltf', 'point-cloud'],
      defaultFor: ['cityjson', 'citygml', 'gltf', 'point-cloud'],
      readOnly: true
    }));
  }
};

export default plugin;
