import { ILabShell, ILayoutRestorer, JupyterFrontEnd, JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { LabIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';
import { CatalogPanel, DEFAULT_SETTINGS, ICatalogSettings } from './panel';

const PLUGIN_ID = '@ai4geo/catalog:plugin';
const MARKER = 'ai4geo_catalog';

const catalogIcon = new LabIcon({
  name: 'ai4geo:catalog',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">' +
    '<path d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm0 2c1.3 0 2.6 1.9 3.2 5H8.8C9.4 5.9 10.7 4 12 4zM4.3 11h3.9' +
    'a19 19 0 0 0 0 2H4.3a8 8 0 0 1 0-2zm5.6 0h4.2a17 17 0 0 1 0 2H9.9a17 17 0 0 1 0-2zm5.9 0h3.9a8 8 0 0 1 0 2h-3.9' +
    'a19 19 0 0 0 0-2zM8.8 15h6.4c-.6 3.1-1.9 5-3.2 5s-2.6-1.9-3.2-5z"/></g></svg>'
});

function isNotebook(widget: Widget | null): boolean {
  const w = widget as any;
  return !!(w && w.content && w.content.model && w.context && String(w.context.path).endsWith('.ipynb'));
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Catalog search panel (EODAG through ai4geo_kernel.catalog) in the left sidebar.',
  autoStart: true,
  requires: [ISettingRegistry],
  optional: [ILabShell, ILayoutRestorer],
  activate: (app: JupyterFrontEnd, registry: ISettingRegistry, labShell: ILabShell | null,
    restorer: ILayoutRestorer | null) => {
    let lastNotebook: any = null;
    let settings: ISettingRegistry.ISettings | null = null;
    labShell?.currentChanged.connect((_, change) => {
      if (isNotebook(change.newValue)) {
        lastNotebook = change.newValue;
      }
    });

    const panel = new CatalogPanel({
      insertCode: async (code: string, replace: boolean) => {
        let nb: any = isNotebook(app.shell.currentWidget) ? app.shell.currentWidget : lastNotebook;
        if (!nb || nb.isDisposed) {
          nb = await app.commands.execute('notebook:create-new', { kernelName: 'python3' });
        }
        await nb.context.ready;
        const shared = nb.content.model.sharedModel;
        const cells: any[] = shared.cells;
        let index = replace ? cells.findIndex(cell => cell.getMetadata && cell.getMetadata(MARKER)) : -1;
        if (index >= 0) {
          cells[index].setSource(code);
        } else if (cells.length === 1 && cells[0].cell_type === 'code' && cells[0].getSource() === '') {
          index = 0;
          cells[0].setSource(code);
          cells[0].setMetadata(MARKER, { inserted: true });
        } else {
          index = Math.min(cells.length, Math.max(0, nb.content.activeCellIndex + 1));
          shared.insertCell(index, { cell_type: 'code', source: code, metadata: { [MARKER]: { inserted: true } } });
        }
        nb.content.activeCellIndex = index;
        app.shell.activateById(nb.id);
        lastNotebook = nb;
      },
      savePlaces: async places => {
        await settings?.set('places', places as any);
      },
      openPath: (path: string) => {
        void app.commands.execute('docmanager:open', { path });
      },
      openIn2DViewer: async (folder: string) => {
        const contents = app.serviceManager.contents;
        const queue = [folder];
        while (queue.length) {
          const listing = await contents.get(queue.shift()!, { content: true });
          for (const entry of listing.content as any[]) {
            if (entry.type === 'directory') {
              queue.push(entry.path);
            } else if (/\.tiff?$/i.test(entry.name)) {
              const viewer = app.docRegistry.getWidgetFactory('2D Viewer');
              await app.commands.execute('docmanager:open', { path: entry.path, ...(viewer ? { factory: '2D Viewer' } : {}) });
              return true;
            }
          }
        }
        return false;
      }
    });
    panel.title.icon = catalogIcon;
    app.shell.add(panel, 'left', { rank: 650 });
    restorer?.add(panel, 'ai4geo-catalog');

    app.commands.addCommand('ai4geo-catalog:open', {
      label: 'Open the catalog search panel',
      execute: () => app.shell.activateById(panel.id)
    });

    // the file browser's context menu: use a vector file as the search extent
    app.commands.addCommand('ai4geo-catalog:use-as-extent', {
      label: 'Use as catalog search extent',
      isVisible: () => !!selectedFile(),
      execute: async () => {
        const path = selectedFile();
        if (path) {
          app.shell.activateById(panel.id);
          await panel.loadGeometryFrom(path);
        }
      }
    });
    const selectedFile = (): string | null => {
      for (const widget of app.shell.widgets('left')) {
        const browser = widget as any;
        if (widget.id === 'filebrowser' && typeof browser.selectedItems === 'function') {
          for (const item of browser.selectedItems()) {
            if (/\.(geojson|json|gpkg|shp|zip|fgb|kml|parquet)$/i.test(item.path)) {
              return item.path;
            }
          }
        }
      }
      return null;
    };
    app.contextMenu.addItem({ command: 'ai4geo-catalog:use-as-extent', selector: '.jp-DirListing-item[data-isdir="false"]', rank: 20 });

    registry
      .load(PLUGIN_ID)
      .then(loaded => {
        settings = loaded;
        const apply = () => panel.applySettings({ ...DEFAULT_SETTINGS, ...(loaded.composite as any) } as ICatalogSettings);
        apply();
        loaded.changed.connect(apply);
      })
      .catch(reason => console.error('ai4geo catalog: settings could not be loaded', reason));
  }
};

export default plugin;
