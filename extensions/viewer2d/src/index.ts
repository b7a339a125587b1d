/**
 * AI4GEO 2D viewer: rasters (GeoTIFF/COG/VRT/JP2) on a Leaflet map, tiled by the Jupyter server's
 * `/ai4geo/tiles/...` endpoints (ai4geo_kernel.tiles on rio-tiler). No basemap, no CDN: offline.
 */
import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { URLExt } from '@jupyterlab/coreutils';
import {
  ABCWidgetFactory,
  DocumentRegistry,
  DocumentWidget,
  TextModelFactory
} from '@jupyterlab/docregistry';
import { Contents, ServerConnection } from '@jupyterlab/services';
import { Widget } from '@lumino/widgets';
import * as L from 'leaflet';

const FACTORY = '2D Viewer';
const MODEL = 'ai4geo-raster';
const STATE_PREFIX = 'ai4geo-viewer2d:';
const COLORMAPS = ['', 'viridis', 'magma', 'terrain', 'gray', 'rdylgn', 'spectral', 'blues', 'reds', 'cfastie'];
const VECTOR_SUFFIXES = ['.geojson', '.json', '.gpkg', '.fgb', '.shp'];

interface IInfo {
  width: number;
  height: number;
  count: number;
  dtype: string;
  crs: string;
  geographic_bounds: [number, number, number, number];
  overviews: number[];
  minzoom: number;
  maxzoom: number;
  band_descriptions: string[];
}

interface IBandStats {
  min: number;
  max: number;
  p2: number;
  p98: number;
  histogram: { counts: number[]; edges: number[] };
}

interface ILayerState {
  path: string;
  kind: 'raster' | 'vector';
  bands?: string;
  rescale?: string;
  colormap?: string;
  opacity: number;
  visible: boolean;
}

interface IViewState {
  center?: [number, number];
  zoom?: number;
  layers: ILayerState[];
  split?: { left: number; right: number; position: number } | null;
}

/** A model that never loads the file's content: the tiles come from the server. */
class RasterModelFactory extends TextModelFactory {
  get name(): string {
    return MODEL;
  }
  get fileFormat(): Contents.FileFormat {
    return null;
  }
}

async function api<T>(route: string, params: Record<string, string>, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const query = new URLSearchParams(params).toString();
  const url = URLExt.join(settings.baseUrl, 'ai4geo', 'tiles', route) + (query ? `?${query}` : '');
  const response = await ServerConnection.makeRequest(url, init, settings);
  if (!response.ok) {
    throw new Error(`${route}: ${response.status} ${response.statusText}`);
  }
  return (await response.json()) as T;
}

function tileUrl(state: ILayerState, format = 'png'): string {
  const settings = ServerConnection.makeSettings();
  const params: Record<string, string> = { path: state.path };
  if (state.bands) {
    params.bands = state.bands;
  }
  if (state.rescale) {
    params.rescale = state.rescale;
  }
  if (state.colormap) {
    params.colormap = state.colormap;
  }
  const query = new URLSearchParams(params).toString();
  return URLExt.join(settings.baseUrl, 'ai4geo', 'tiles', 'tile') + `/{z}/{x}/{y}.${format}?${query}`;
}

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
  text = ''
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text) {
    node.textContent = text;
  }
  return node;
}

function formatValue(value: number | null): string {
  if (value === null || value === undefined) {
    return 'nodata';
  }
  return Number.isInteger(value) ? String(value) : value.toPrecision(6);
}

class MapLayer {
  readonly state: ILayerState;
  leaflet: L.Layer | null = null;
  info: IInfo | null = null;
  constructor(state: ILayerState) {
    this.state = state;
  }
  get name(): string {
    return this.state.path.split('/').pop() || this.state.path;
  }
}

/** The viewer: map, layers panel with style controls and histogram, pixel inspector, split view. */
export class Viewer2D extends Widget {
  private _path: string;
  private _map: L.Map | null = null;
  private _mapNode: HTMLDivElement;
  private _panel: HTMLDivElement;
  private _layersList: HTMLDivElement;
  private _controls: HTMLDivElement;
  private _inspector: HTMLDivElement;
  private _banner: HTMLDivElement;
  private _divider: HTMLDivElement;
  private _layers: MapLayer[] = [];
  private _selected = 0;
  private _split: { left: number; right: number; position: number } | null = null;
  private _stateKey: string;

  constructor(path: string) {
    super();
    this._path = path;
    this._stateKey = STATE_PREFIX + path;
    this.addClass('a4g-viewer2d');
    this._mapNode = element('div', 'a4g-map');
    this._panel = element('div', 'a4g-panel');
    this._banner = element('div', 'a4g-banner');
    this._banner.hidden = true;
    this._divider = element('div', 'a4g-split-divider');
    this._divider.hidden = true;
    const mapBox = element('div', 'a4g-map-box');
    mapBox.append(this._mapNode, this._divider, this._banner);

    const addRow = element('div', 'a4g-add');
    const addInput = element('input', 'a4g-add-path') as HTMLInputElement;
    addInput.placeholder = 'add a raster or vector (path under the root)';
    const addButton = element('button', 'a4g-add-button jp-mod-styled', 'Add');
    addButton.onclick = () => {
      const value = addInput.value.trim();
      if (value) {
        void this.addLayer(this._defaultState(value)).then(() => this._save());
        addInput.value = '';
      }
    };
    addRow.append(addInput, addButton);
    this._layersList = element('div', 'a4g-layers');
    this._controls = element('div', 'a4g-controls');
    const splitRow = element('div', 'a4g-split-row');
    const splitButton = element('button', 'a4g-split-toggle jp-mod-styled', 'Split view');
    splitButton.onclick = () => this.toggleSplit();
    splitRow.append(splitButton);
    this._inspector = element('div', 'a4g-inspector');
    this._inspector.textContent = 'Click the map to read pixel values.';
    this._panel.append(
      element('h3', '', 'Layers'),
      this._layersList,
      addRow,
      splitRow,
      this._controls,
      element('h3', '', 'Pixel inspector'),
      this._inspector
    );
    this.node.append(mapBox, this._panel);
  }

  get map(): L.Map | null {
    return this._map;
  }

  private _defaultState(path: string): ILayerState {
    const lower = path.toLowerCase();
    const kind = VECTOR_SUFFIXES.some(s => lower.endsWith(s)) ? 'vector' : 'raster';
    return { path, kind, opacity: 1, visible: true };
  }

  private _load(): IViewState | null {
    try {
      const text = window.localStorage.getItem(this._stateKey);
      return text ? (JSON.parse(text) as IViewState) : null;
    } catch {
      return null;
    }
  }

  private _save(): void {
    if (!this._map) {
      return;
    }
    const center = this._map.getCenter();
    const state: IViewState = {
      center: [center.lat, center.lng],
      zoom: this._map.getZoom(),
      layers: this._layers.map(layer => layer.state),
      split: this._split
    };
    try {
      window.localStorage.setItem(this._stateKey, JSON.stringify(state));
    } catch {
      /* storage full or disabled: the view is simply not kept */
    }
  }

  protected onAfterAttach(): void {
    if (this._map) {
      return;
    }
    const map = L.map(this._mapNode, {
      zoomControl: true,
      attributionControl: false,
      maxZoom: 24,
      worldCopyJump: false
    });
    this._map = map;
    L.control.scale({ imperial: false, position: 'bottomleft' }).addTo(map);
    map.on('click', (event: L.LeafletMouseEvent) => void this.inspect(event.latlng));
    map.on('moveend zoomend', () => {
      this._updateSplit();
      this._save();
    });
    const saved = this._load();
    const states = saved?.layers?.length ? saved.layers : [this._defaultState(this._path)];
    void (async () => {
      for (const state of states) {
        await this.addLayer(state, !(saved && saved.center));
      }
      if (saved && saved.center && saved.zoom !== undefined) {
        map.setView(saved.center, saved.zoom);
      }
      if (saved?.split && this._layers.length >= 2) {
        this.toggleSplit(saved.split);
      }
      this.node.dataset.ready = 'true';
    })();
  }

  protected onResize(): void {
    this._map?.invalidateSize();
    this._updateSplit();
  }

  async addLayer(state: ILayerState, fit = true): Promise<MapLayer> {
    const map = this._map!;
    const layer = new MapLayer(state);
    this._layers.push(layer);
    try {
      if (state.kind === 'vector') {
        const data = await api<GeoJSON.FeatureCollection>('vector', { path: state.path });
        const vector = L.geoJSON(data, {
          style: { color: '#ff7f0e', weight: 2, opacity: state.opacity, fillOpacity: 0.2 * state.opacity }
        });
        layer.leaflet = vector;
        if (fit && vector.getBounds().isValid()) {
          map.fitBounds(vector.getBounds());
        }
      } else {
        const info = await api<IInfo>('info', { path: state.path });
        layer.info = info;
        const [west, south, east, north] = info.geographic_bounds;
        const bounds = L.latLngBounds([south, west], [north, east]);
        layer.leaflet = L.tileLayer(tileUrl(state), {
          bounds,
          opacity: state.opacity,
          // every zoom is rendered by the server: rio-tiler's maxzoom is coarser than the data, and Leaflet
          // stretching its tiles beyond it showed blurred pixels and stair steps (as in viz.show)
          maxZoom: 24,
          maxNativeZoom: 24,
          noWrap: true,
          className: 'a4g-raster-tiles'
        });
        if (fit) {
          map.fitBounds(bounds);
        }
        if (!info.overviews.length && Math.max(info.width, info.height) > 4096) {
          this._offerCog(state.path, info);
        }
      }
      if (state.visible) {
        layer.leaflet.addTo(map);
      }
    } catch (error) {
      this._showBanner(`Cannot open ${state.path}: ${error}`);
    }
    this._selected = this._layers.length - 1;
    this._renderPanel();
    return layer;
  }

  private _showBanner(text: string, action?: HTMLElement): void {
    this._banner.replaceChildren(element('span', '', text));
    if (action) {
      this._banner.append(action);
    }
    this._banner.hidden = false;
  }

  private _offerCog(path: string, info: IInfo): void {
    const button = element('button', 'a4g-cog-button jp-mod-styled', 'Write a COG copy');
    button.onclick = async () => {
      button.disabled = true;
      const job = await api<{ id: string; destination: string }>('cog', {}, {
        method: 'POST',
        body: JSON.stringify({ path })
      });
      const poll = async (): Promise<void> => {
        const status = await api<{ state: string; progress: number; destination: string; error: string }>(
          `cog/${job.id}`,
          {}
        );
        if (status.state === 'running') {
          this._showBanner(`Writing ${status.destination}: ${Math.round(status.progress * 100)}%`);
          window.setTimeout(() => void poll(), 1000);
        } else if (status.state === 'done') {
          const open = element('button', 'jp-mod-styled', 'Add it as a layer');
          open.onclick = () => void this.addLayer(this._defaultState(status.destination), false);
          this._showBanner(`Written: ${status.destination}`, open);
        } else {
          this._showBanner(`COG conversion failed: ${status.error}`);
        }
      };
      await poll();
    };
    this._showBanner(
      `${info.width} x ${info.height} without overviews: zoomed-out views are slow.`,
      button
    );
  }

  private _restyle(layer: MapLayer): void {
    if (layer.leaflet instanceof L.TileLayer) {
      layer.leaflet.setUrl(tileUrl(layer.state));
      layer.leaflet.setOpacity(layer.state.opacity);
    } else if (layer.leaflet instanceof L.GeoJSON) {
      layer.leaflet.setStyle({ opacity: layer.state.opacity, fillOpacity: 0.2 * layer.state.opacity });
    }
    this._save();
  }

  private _renderPanel(): void {
    this._layersList.replaceChildren();
    this._layers.forEach((layer, index) => {
      const row = element('div', 'a4g-layer' + (index === this._selected ? ' a4g-selected' : ''));
      const visible = element('input') as HTMLInputElement;
      visible.type = 'checkbox';
      visible.checked = layer.state.visible;
      visible.onchange = () => {
        layer.state.visible = visible.checked;
        if (layer.leaflet) {
          if (visible.checked) {
            layer.leaflet.addTo(this._map!);
          } else {
            layer.leaflet.remove();
          }
        }
        this._save();
      };
      const name = element('span', 'a4g-layer-name', layer.name);
      name.title = layer.state.path;
      name.onclick = () => {
        this._selected = index;
        this._renderPanel();
      };
      const opacity = element('input', 'a4g-opacity') as HTMLInputElement;
      opacity.type = 'range';
      opacity.min = '0';
      opacity.max = '1';
      opacity.step = '0.05';
      opacity.value = String(layer.state.opacity);
      opacity.title = 'opacity';
      opacity.oninput = () => {
        layer.state.opacity = Number(opacity.value);
        this._restyle(layer);
      };
      row.append(visible, name, opacity);
      this._layersList.append(row);
    });
    void this._renderControls();
  }

  private async _renderControls(): Promise<void> {
    this._controls.replaceChildren();
    const layer = this._layers[this._selected];
    if (!layer || layer.state.kind !== 'raster' || !layer.info) {
      return;
    }
    const info = layer.info;
    this._controls.append(
      element('h3', '', `Style: ${layer.name}`),
      element('div', 'a4g-meta', `${info.width} x ${info.height}, ${info.count} band(s) ${info.dtype}, ${info.crs}`)
    );
    const bands = element('input', 'a4g-bands') as HTMLInputElement;
    bands.placeholder = info.count >= 3 ? '1,2,3' : '1';
    bands.value = layer.state.bands || '';
    const low = element('input', 'a4g-min') as HTMLInputElement;
    const high = element('input', 'a4g-max') as HTMLInputElement;
    low.placeholder = 'min (auto)';
    high.placeholder = 'max (auto)';
    if (layer.state.rescale) {
      [low.value, high.value] = layer.state.rescale.split(',');
    }
    const colormap = element('select', 'a4g-colormap') as HTMLSelectElement;
    for (const name of COLORMAPS) {
      const option = element('option', '', name || '(none)');
      option.value = name;
      colormap.append(option);
    }
    colormap.value = layer.state.colormap || '';
    const apply = element('button', 'a4g-apply jp-mod-styled', 'Apply');
    const canvas = element('canvas', 'a4g-histogram') as HTMLCanvasElement;
    canvas.width = 240;
    canvas.height = 70;
    apply.onclick = () => {
      layer.state.bands = bands.value.replace(/\s/g, '') || undefined;
      layer.state.rescale = low.value && high.value ? `${Number(low.value)},${Number(high.value)}` : undefined;
      layer.state.colormap = colormap.value || undefined;
      this._restyle(layer);
      void this._drawHistogram(layer, canvas);
    };
    const grid = element('div', 'a4g-style-grid');
    grid.append(
      element('label', '', 'bands'), bands,
      element('label', '', 'stretch'), low, high,
      element('label', '', 'colormap'), colormap
    );
    this._controls.append(grid, apply, canvas);
    await this._drawHistogram(layer, canvas);
  }

  private async _drawHistogram(layer: MapLayer, canvas: HTMLCanvasElement): Promise<void> {
    const band = (layer.state.bands || '1').split(',')[0];
    let stats: IBandStats;
    try {
      const answer = await api<{ bands: Record<string, IBandStats> }>('statistics', {
        path: layer.state.path,
        bands: band
      });
      stats = answer.bands[band];
    } catch {
      return;
    }
    if (!stats || !stats.histogram) {
      return;
    }
    const context = canvas.getContext('2d');
    if (!context) {
      return;
    }
    const { counts, edges } = stats.histogram;
    const peak = Math.max(...counts, 1);
    const style = getComputedStyle(this.node);
    context.clearRect(0, 0, canvas.width, canvas.height);
    context.fillStyle = style.getPropertyValue('--jp-brand-color1') || '#1976d2';
    const width = canvas.width / counts.length;
    counts.forEach((count, i) => {
      const h = (count / peak) * (canvas.height - 12);
      context.fillRect(i * width, canvas.height - 12 - h, Math.max(1, width - 1), h);
    });
    const span = edges[edges.length - 1] - edges[0] || 1;
    const [lo, hi] = layer.state.rescale ? layer.state.rescale.split(',').map(Number) : [stats.p2, stats.p98];
    context.fillStyle = style.getPropertyValue('--jp-warn-color0') || '#f57c00';
    for (const value of [lo, hi]) {
      context.fillRect(((value - edges[0]) / span) * canvas.width, 0, 2, canvas.height - 12);
    }
    context.fillStyle = style.getPropertyValue('--jp-ui-font-color1') || '#000';
    context.font = '10px sans-serif';
    context.fillText(`${formatValue(lo)} .. ${formatValue(hi)} (band ${band})`, 2, canvas.height - 2);
    canvas.dataset.band = band;
  }

  async inspect(latlng: L.LatLng): Promise<void> {
    const rasters = this._layers.filter(layer => layer.state.kind === 'raster' && layer.info);
    const lon = L.Util.wrapNum(latlng.lng, [-180, 180], true);
    const box = element('div', 'a4g-inspection');
    box.append(element('div', 'a4g-wgs84', `WGS84 lon ${lon.toFixed(6)}, lat ${latlng.lat.toFixed(6)}`));
    for (const layer of rasters) {
      try {
        const point = await api<{
          crs: string;
          x: number;
          y: number;
          row: number;
          col: number;
          inside: boolean;
          values: (number | null)[];
          bands: string[];
        }>('point', { path: layer.state.path, lon: String(lon), lat: String(latlng.lat) });
        const section = element('div', 'a4g-point');
        section.append(element('div', 'a4g-point-layer', layer.name));
        section.append(
          element('div', 'a4g-point-crs', `${point.crs}: x ${point.x.toFixed(2)}, y ${point.y.toFixed(2)} (row ${point.row}, col ${point.col})`)
        );
        if (!point.inside) {
          section.append(element('div', '', 'outside the raster'));
        } else {
          const table = element('table', 'a4g-values');
          point.values.forEach((value, i) => {
            const tr = element('tr');
            tr.append(element('td', '', point.bands[i] || `band ${i + 1}`), element('td', 'a4g-value', formatValue(value)));
            table.append(tr);
          });
          section.append(table);
        }
        box.append(section);
      } catch (error) {
        box.append(element('div', '', `${layer.name}: ${error}`));
      }
    }
    this._inspector.replaceChildren(box);
    if (this._map) {
      L.popup({ maxWidth: 320 }).setLatLng(latlng).setContent(box.cloneNode(true) as HTMLElement).openOn(this._map);
    }
  }

  /** Compare two layers side by side: `left` shows left of the divider, `right` right of it. */
  toggleSplit(split?: { left: number; right: number; position: number }): void {
    const rasters = this._layers
      .map((layer, index) => ({ layer, index }))
      .filter(({ layer }) => layer.leaflet instanceof L.TileLayer);
    if (this._split && !split) {
      this._split = null;
      this._divider.hidden = true;
      this.node.classList.remove('a4g-split-on');
      for (const { layer } of rasters) {
        const container = (layer.leaflet as L.TileLayer).getContainer();
        if (container) {
          container.style.clip = '';
        }
      }
      this._save();
      return;
    }
    if (rasters.length < 2) {
      this._showBanner('Split view needs two raster layers: add one in the layers panel.');
      return;
    }
    this._split = split || {
      left: rasters[rasters.length - 2].index,
      right: rasters[rasters.length - 1].index,
      position: 0.5
    };
    for (const index of [this._split.left, this._split.right]) {
      const layer = this._layers[index];
      if (layer && !layer.state.visible && layer.leaflet) {
        layer.state.visible = true;
        layer.leaflet.addTo(this._map!);
      }
    }
    this._divider.hidden = false;
    this.node.classList.add('a4g-split-on');
    this._startDividerDrag();
    this._updateSplit();
    this._renderPanel();
    this._save();
  }

  private _dragBound = false;
  private _startDividerDrag(): void {
    if (this._dragBound) {
      return;
    }
    this._dragBound = true;
    this._divider.addEventListener('pointerdown', (down: PointerEvent) => {
      down.preventDefault();
      down.stopPropagation();
      this._map?.dragging.disable();
      const box = this._mapNode.getBoundingClientRect();
      const move = (event: PointerEvent) => {
        if (this._split) {
          this._split.position = Math.min(0.98, Math.max(0.02, (event.clientX - box.left) / box.width));
          this._updateSplit();
        }
      };
      const up = () => {
        window.removeEventListener('pointermove', move);
        window.removeEventListener('pointerup', up);
        this._map?.dragging.enable();
        this._save();
      };
      window.addEventListener('pointermove', move);
      window.addEventListener('pointerup', up);
    });
  }

  private _updateSplit(): void {
    const map = this._map;
    if (!map || !this._split) {
      return;
    }
    const size = map.getSize();
    const nw = map.containerPointToLayerPoint([0, 0]);
    const se = map.containerPointToLayerPoint(size);
    const clipX = nw.x + size.x * this._split.position;
    this._divider.style.left = `${size.x * this._split.position}px`;
    const left = this._layers[this._split.left]?.leaflet as L.TileLayer | undefined;
    const right = this._layers[this._split.right]?.leaflet as L.TileLayer | undefined;
    const leftBox = left?.getContainer();
    const rightBox = right?.getContainer();
    if (leftBox) {
      leftBox.style.clip = `rect(${nw.y}px, ${clipX}px, ${se.y}px, ${nw.x}px)`;
    }
    if (rightBox) {
      rightBox.style.clip = `rect(${nw.y}px, ${se.x}px, ${se.y}px, ${clipX}px)`;
    }
  }

  dispose(): void {
    if (this._map) {
      this._save();
      this._map.remove();
      this._map = null;
    }
    super.dispose();
  }
}

class Viewer2DFactory extends ABCWidgetFactory<DocumentWidget<Viewer2D>> {
  protected createNewWidget(context: DocumentRegistry.Context): DocumentWidget<Viewer2D> {
    const content = new Viewer2D(context.path);
    const widget = new DocumentWidget({ content, context });
    widget.addClass('a4g-viewer2d-document');
    widget.title.iconClass = 'jp-ImageIcon';
    return widget;
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: '@ai4geo/viewer2d:plugin',
  description: 'AI4GEO 2D viewer for large rasters, tiled by the Jupyter server.',
  autoStart: true,
  activate: (app: JupyterFrontEnd) => {
    const registry = app.docRegistry;
    const types: DocumentRegistry.IFileType[] = [
      { name: 'geotiff', displayName: 'GeoTIFF', extensions: ['.tif', '.tiff'], mimeTypes: ['image/tiff'], contentType: 'file', fileFormat: 'base64' },
      // A pattern puts this type ahead of JupyterLab's own 'tiff' (image viewer) and of 'geotiff' (which the 3D
      // viewer may register first) when the registry looks for a .tif's default viewer: pattern matches come
      // before extension matches. A double click opens the 2D viewer; "Open With" keeps the others.
      { name: 'geotiff-2d', displayName: 'GeoTIFF', extensions: [], pattern: '\\.[tT][iI][fF][fF]?$', mimeTypes: ['image/tiff'], contentType: 'file', fileFormat: 'base64' },
      { name: 'gdal-vrt', displayName: 'GDAL VRT', extensions: ['.vrt'], mimeTypes: ['text/xml'], contentType: 'file', fileFormat: 'text' },
      { name: 'jpeg2000', displayName: 'JPEG 2000', extensions: ['.jp2'], mimeTypes: ['image/jp2'], contentType: 'file', fileFormat: 'base64' }
    ] as DocumentRegistry.IFileType[];
    for (const fileType of types) {
      if (!registry.getFileType(fileType.name)) {
        registry.addFileType(fileType);
      }
    }
    registry.addModelFactory(new RasterModelFactory());
    const factory = new Viewer2DFactory({
      name: FACTORY,
      label: '2D Viewer',
      modelName: MODEL,
      fileTypes: ['geotiff-2d', 'geotiff', 'gdal-vrt', 'jpeg2000'],
      defaultFor: ['geotiff-2d', 'geotiff'],
      readOnly: true
    });
    registry.addWidgetFactory(factory);
  }
};

export default plugin;
