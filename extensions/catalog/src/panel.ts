import * as L from 'leaflet';
import { Widget } from '@lumino/widgets';
import { CatalogApiError, postAPI, requestAPI } from './api';

/** The panel's settings (schema/plugin.json). */
export interface ICatalogSettings {
  mapCenter: [number, number];
  mapZoom: number;
  basemapUrl: string;
  basemapAttribution: string;
  pageSize: number;
  replaceCode: boolean;
  downloadFolder: string;
  places: { name: string; geometry: any }[];
}

export const DEFAULT_SETTINGS: ICatalogSettings = {
  mapCenter: [43.6, 1.44],
  mapZoom: 9,
  basemapUrl: '',
  basemapAttribution: '',
  pageSize: 10,
  replaceCode: true,
  downloadFolder: 'downloads',
  places: []
};

/** What the panel needs from the application (kept small so the panel does not import the notebook). */
export interface IPanelHost {
  insertCode(code: string, replace: boolean): Promise<void>;
  savePlaces(places: { name: string; geometry: any }[]): Promise<void>;
  openPath(path: string): void;
  /** Open the first GeoTIFF under a folder (a downloaded item) in the 2D viewer; false when there is none. */
  openIn2DViewer(folder: string): Promise<boolean>;
}

interface ISearchReply {
  search_id: string;
  provider: string | null;
  collection: string;
  arguments: Record<string, any>;
  code: string;
  returned: number;
  matched: number | null;
  items: any[];
}

const FOOTPRINT = { color: '#3388ff', weight: 2, fillOpacity: 0.05 };
const HIGHLIGHT = { color: '#ff7800', weight: 4, fillOpacity: 0.3 };
const EXTENT = { color: '#e0245e', weight: 2, fillOpacity: 0.08, dashArray: '4 3' };

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'text') {
      node.textContent = value;
    } else {
      node.setAttribute(key, value);
    }
  }
  for (const child of children) {
    node.append(child);
  }
  return node;
}

/** A filterable picker: a search box over a list; option tooltips carry the descriptions. */
class Picker {
  readonly filter: HTMLInputElement;
  readonly select: HTMLSelectElement;
  private options: { id: string; title: string; description: string }[] = [];

  constructor(readonly name: string, size: number) {
    this.filter = el('input', { type: 'search', placeholder: 'type to filter', 'data-field': `${name}-filter` });
    this.select = el('select', { size: String(size), 'data-field': name });
    this.filter.addEventListener('input', () => this.render());
    this.select.addEventListener('change', () => {
      this.select.title = this.selectedOption()?.description || '';
    });
  }

  setOptions(options: { id: string; title: string; description: string }[], keep?: string): void {
    this.options = options;
    this.render(keep);
  }

  get value(): string {
    return this.select.value;
  }

  set value(id: string) {
    this.select.value = id;
    this.select.title = this.selectedOption()?.description || '';
  }

  private selectedOption() {
    return this.options.find(o => o.id === this.select.value);
  }

  private render(keep?: string): void {
    const current = keep ?? this.select.value;
    const text = this.filter.value.trim().toLowerCase();
    this.select.textContent = '';
    for (const option of this.options) {
      const hay = `${option.id} ${option.title} ${option.description}`.toLowerCase();
      if (text && !hay.includes(text)) {
        continue;
      }
      const node = el('option', { value: option.id, title: option.description || option.title });
      node.textContent = option.title && option.title !== option.id ? `${option.id}: ${option.title}` : option.id;
      this.select.append(node);
    }
    if (current && Array.from(this.select.options).some(o => o.value === current)) {
      this.value = current;
    }
  }
}

/** The catalog search panel (left sidebar). */
export class CatalogPanel extends Widget {
  settings: ICatalogSettings = { ...DEFAULT_SETTINGS };
  private host: IPanelHost;
  private provider = new Picker('provider', 3);
  private collection = new Picker('collection', 6);
  private start = el('input', { type: 'date', 'data-field': 'start' });
  private end = el('input', { type: 'date', 'data-field': 'end' });
  private limit = el('input', { type: 'number', min: '1', value: '100', 'data-field': 'limit' });
  private count = el('input', { type: 'checkbox', 'data-field': 'count' });
  private extraFields = el('div', { class: 'ai4geo-queryables' });
  private freeParams = el('textarea', { rows: '2', placeholder: 'key=value, one a line', 'data-field': 'query' });
  private geometryPath = el('input', { type: 'text', placeholder: 'path/to/area.gpkg (.geojson, .shp)', 'data-field': 'geometry-path' });
  private placeSelect = el('select', { 'data-field': 'place' });
  private placeName = el('input', { type: 'text', placeholder: 'name of this extent', 'data-field': 'place-name' });
  private errors: Record<string, HTMLElement> = {};
  private status = el('div', { class: 'ai4geo-status', 'data-field': 'status' });
  private resultsInfo = el('div', { class: 'ai4geo-status', 'data-field': 'results-info' });
  private table = el('table', { class: 'ai4geo-results' });
  private pager = el('div', { class: 'ai4geo-row ai4geo-pager' });
  private details = el('div', { class: 'ai4geo-details', 'data-field': 'details' });
  private downloadFolder = el('input', { type: 'text', 'data-field': 'download-folder' });
  private savePath = el('input', { type: 'text', value: 'results.json', 'data-field': 'save-path' });
  private progress = el('ul', { class: 'ai4geo-progress', 'data-field': 'progress' });
  private mapNode = el('div', { class: 'ai4geo-map' });
  private map: L.Map | null = null;
  private basemap: L.Layer | null = null;
  private extentLayer = L.featureGroup();
  private footprintLayer = L.featureGroup();
  private footprints = new Map<string, L.GeoJSON>();
  private rows = new Map<string, HTMLTableRowElement>();
  private drawMode: 'rectangle' | 'polygon' | null = null;
  private drawButtons: Record<string, HTMLButtonElement> = {};
  private queryables: Record<string, any> = {};
  private reply: ISearchReply | null = null;
  private page = 0;
  private selected = new Set<string>();

  constructor(host: IPanelHost) {
    super();
    this.host = host;
    this.id = 'ai4geo-catalog';
    this.addClass('ai4geo-catalog');
    this.title.caption = 'Catalog search (EODAG)';
    this.build();
  }

  // -- layout ----------------------------------------------------------------------------------------
  private fieldError(name: string): HTMLElement {
    const node = el('div', { class: 'ai4geo-field-error', 'data-error-for': name });
    this.errors[name] = node;
    return node;
  }

  private button(label: string, action: () => void, attrs: Record<string, string> = {}): HTMLButtonElement {
    const node = el('button', { type: 'button', ...attrs }, label);
    node.addEventListener('click', action);
    return node;
  }

  private build(): void {
    const root = this.node;
    root.append(el('h3', { text: 'Catalog search' }));
    root.append(el('label', { text: 'Provider' }), this.provider.filter, this.provider.select, this.fieldError('provider'));
    root.append(el('label', { text: 'Collection' }), this.collection.filter, this.collection.select,
      this.fieldError('collection'));
    root.append(el('div', { class: 'ai4geo-row' },
      el('div', {}, el('label', { text: 'Start' }), this.start),
      el('div', {}, el('label', { text: 'End' }), this.end)));
    root.append(this.fieldError('start'), this.fieldError('end'));

    // extent: map, drawing, file, saved places
    root.append(el('label', { text: 'Extent' }));
    this.drawButtons.rectangle = this.button('▭ Rectangle', () => this.toggleDraw('rectangle'), { 'data-action': 'draw-rectangle' });
    this.drawButtons.polygon = this.button('⬠ Polygon', () => this.toggleDraw('polygon'), { 'data-action': 'draw-polygon' });
    root.append(el('div', {}, this.drawButtons.rectangle, this.drawButtons.polygon,
      this.button('Clear', () => this.clearExtent(), { 'data-action': 'clear-extent' })));
    root.append(this.mapNode, this.fieldError('bbox'), this.fieldError('geometry'));
    root.append(el('div', { class: 'ai4geo-row' }, this.geometryPath,
      this.button('Load file', () => void this.loadGeometry(), { 'data-action': 'load-geometry' })));
    this.placeSelect.addEventListener('change', () => this.usePlace());
    root.append(el('div', { class: 'ai4geo-row' }, this.placeSelect),
      el('div', { class: 'ai4geo-row' }, this.placeName,
        this.button('Save place', () => void this.savePlace(), { 'data-action': 'save-place' })),
      this.fieldError('place'));

    // more parameters
    const more = el('details', { 'data-field': 'more' }, el('summary', { text: 'More parameters' }));
    more.append(this.extraFields, el('label', { text: 'Other parameters' }), this.freeParams, this.fieldError('query'),
      el('div', { class: 'ai4geo-row' }, el('label', { text: 'Max items' }), this.limit), this.fieldError('limit'),
      el('label', {}, this.count, ' Count the matching items (slow on some providers)'));
    root.append(more);
    this.renderQueryables();

    root.append(el('div', {}, this.button('Search', () => void this.search(), { class: 'jp-mod-accept', 'data-action': 'search' })),
      this.status);

    // results
    root.append(el('h3', { text: 'Results' }), this.resultsInfo, this.table, this.pager);
    root.append(el('div', {},
      this.button('Insert code', () => void this.insertCode(), { 'data-action': 'insert-code' })));
    root.append(el('div', { class: 'ai4geo-row' }, this.downloadFolder,
      this.button('Download selected', () => void this.download(), { 'data-action': 'download' })),
      this.fieldError('folder'), this.fieldError('ids'), this.progress);
    root.append(el('div', { class: 'ai4geo-row' }, this.savePath,
      this.button('Save as STAC', () => void this.saveStac(), { 'data-action': 'save-stac' })),
      this.fieldError('path'));
    root.append(el('h3', { text: 'Details' }), this.details);

    this.provider.select.addEventListener('change', () => void this.loadCollections());
    this.collection.select.addEventListener('change', () => void this.loadQueryables());
  }

  // The map and the provider list are made when the panel is first shown, not when the Lab starts.
  protected onAfterShow(): void {
    if (!this.map) {
      this.createMap();
      void this.loadProviders();
    }
    this.map?.invalidateSize();
  }

  protected onResize(): void {
    this.map?.invalidateSize();
  }

  // -- settings ----------------------------------------------------------------------------------------
  applySettings(settings: ICatalogSettings): void {
    const basemapChanged = settings.basemapUrl !== this.settings.basemapUrl;
    this.settings = settings;
    if (!this.downloadFolder.value || this.downloadFolder.value === DEFAULT_SETTINGS.downloadFolder) {
      this.downloadFolder.value = settings.downloadFolder;
    }
    this.renderPlaces();
    if (this.map && basemapChanged) {
      this.setBasemap();
    }
    if (this.reply) {
      this.renderPage();
    }
  }

  private renderPlaces(): void {
    const current = this.placeSelect.value;
    this.placeSelect.textContent = '';
    this.placeSelect.append(el('option', { value: '', text: this.settings.places.length ? 'Saved places…' : 'No saved place' }));
    for (const place of this.settings.places) {
      this.placeSelect.append(el('option', { value: place.name, text: place.name }));
    }
    this.placeSelect.value = current;
  }

  // -- map -------------------------------------------------------------------------------------------------
  private createMap(): void {
    const [lat, lon] = this.settings.mapCenter;
    this.map = L.map(this.mapNode, { center: [lat, lon], zoom: this.settings.mapZoom, doubleClickZoom: false,
      worldCopyJump: false });
    this.extentLayer.addTo(this.map);
    this.footprintLayer.addTo(this.map);
    this.setBasemap();
    this.installDrawing();
    setTimeout(() => this.map?.invalidateSize(), 100);
  }

  private setBasemap(): void {
    if (!this.map) {
      return;
    }
    if (this.basemap) {
      this.map.removeLayer(this.basemap);
      this.basemap = null;
    }
    if (this.settings.basemapUrl) {
      this.basemap = L.tileLayer(this.settings.basemapUrl, { attribution: this.settings.basemapAttribution });
      this.basemap.addTo(this.map);
      return;
    }
    // offline default: the world outline served by the Jupyter server, no tiles
    requestAPI<any>('world').then(world => {
      if (!this.map || this.settings.basemapUrl) {
        return;
      }
      this.basemap = L.geoJSON(world, { interactive: false, style: { className: 'ai4geo-world', weight: 1 } });
      this.basemap.addTo(this.map);
      (this.basemap as L.GeoJSON).bringToBack();
    }).catch(() => undefined);
  }

  private toggleDraw(mode: 'rectangle' | 'polygon'): void {
    this.drawMode = this.drawMode === mode ? null : mode;
    for (const [name, node] of Object.entries(this.drawButtons)) {
      node.classList.toggle('ai4geo-active', name === this.drawMode);
    }
    this.mapNode.classList.toggle('ai4geo-drawing', this.drawMode !== null);
    if (this.drawMode) {
      this.map?.dragging.disable();
    } else {
      this.map?.dragging.enable();
    }
  }

  private installDrawing(): void {
    const map = this.map!;
    let corner: L.LatLng | null = null;
    let rect: L.Rectangle | null = null;
    let vertices: L.LatLng[] = [];
    let line: L.Polyline | null = null;
    // Pointer events on the container (captured before Leaflet's own handlers, which suppress mouse events)
    const at = (e: PointerEvent) => map.mouseEventToLatLng(e as unknown as MouseEvent);
    this.mapNode.addEventListener('pointerdown', (e: PointerEvent) => {
      if (this.drawMode !== 'rectangle' || e.button !== 0 || (e.target as HTMLElement).closest('.leaflet-control')) {
        return;
      }
      e.stopPropagation();
      e.preventDefault();
      corner = at(e);
      rect = L.rectangle(L.latLngBounds(corner, corner), EXTENT).addTo(this.extentLayer);
      this.mapNode.setPointerCapture?.(e.pointerId);
    }, true);
    this.mapNode.addEventListener('pointermove', (e: PointerEvent) => {
      if (this.drawMode === 'rectangle' && corner && rect) {
        e.stopPropagation();
        rect.setBounds(L.latLngBounds(corner, at(e)));
      } else if (this.drawMode === 'polygon' && line && vertices.length) {
        line.setLatLngs([...vertices, at(e)]);
      }
    }, true);
    this.mapNode.addEventListener('pointerup', (e: PointerEvent) => {
      if (this.drawMode !== 'rectangle' || !corner || !rect) {
        return;
      }
      e.stopPropagation();
      const bounds = L.latLngBounds(corner, at(e));
      if (bounds.getNorth() === bounds.getSouth() || bounds.getEast() === bounds.getWest()) {
        this.extentLayer.removeLayer(rect);
      } else {
        rect.setBounds(bounds);
        this.clearError('bbox');
        this.clearError('geometry');
        this.placeSelect.value = '';
      }
      corner = null;
      rect = null;
      this.toggleDraw('rectangle');
    }, true);
    map.on('click', (e: L.LeafletMouseEvent) => {
      if (this.drawMode !== 'polygon') {
        return;
      }
      vertices.push(e.latlng);
      if (!line) {
        line = L.polyline(vertices, EXTENT).addTo(this.extentLayer);
      }
      line.setLatLngs(vertices);
    });
    map.on('dblclick', () => {
      if (this.drawMode !== 'polygon') {
        return;
      }
      if (line) {
        this.extentLayer.removeLayer(line);
      }
      // the double click added its point twice
      const ring = vertices.filter((p, i) => i === 0 || !p.equals(vertices[i - 1]));
      if (ring.length >= 3) {
        L.polygon(ring, EXTENT).addTo(this.extentLayer);
        this.clearError('geometry');
      }
      vertices = [];
      line = null;
      this.toggleDraw('polygon');
    });
  }

  private clearExtent(): void {
    this.extentLayer.clearLayers();
    this.placeSelect.value = '';
  }

  /** Show a GeoJSON geometry as the extent (replacing the drawn shapes) and zoom to it. */
  setExtentGeometry(geometry: any): void {
    this.extentLayer.clearLayers();
    const layer = L.geoJSON(geometry, { style: EXTENT });
    layer.eachLayer(l => this.extentLayer.addLayer(l));
    const bounds = this.extentLayer.getBounds();
    if (bounds.isValid()) {
      this.map?.fitBounds(bounds, { maxZoom: 14 });
    }
  }

  /** The extent as search arguments: a bbox for one rectangle, else a GeoJSON geometry. */
  extentArguments(): Record<string, any> {
    const layers = this.extentLayer.getLayers();
    if (!layers.length) {
      return {};
    }
    const round = (v: number) => Math.round(v * 1e6) / 1e6;
    if (layers.length === 1 && layers[0] instanceof L.Rectangle) {
      const b = (layers[0] as L.Rectangle).getBounds();
      return { bbox: [round(b.getWest()), round(b.getSouth()), round(b.getEast()), round(b.getNorth())] };
    }
    const geometries = layers.map(l => (l as L.Polygon).toGeoJSON(6).geometry);
    if (geometries.length === 1) {
      return { geometry: geometries[0] };
    }
    return { geometry: { type: 'GeometryCollection', geometries } };
  }

  private extentGeometry(): any {
    const args = this.extentArguments();
    if (args.bbox) {
      const [w, s, e, n] = args.bbox;
      return { type: 'Polygon', coordinates: [[[w, s], [e, s], [e, n], [w, n], [w, s]]] };
    }
    return args.geometry ?? null;
  }

  /** Load the extent from a vector file under the server root (the file browser's context menu calls it). */
  async loadGeometryFrom(path: string): Promise<void> {
    this.geometryPath.value = path;
    await this.loadGeometry();
  }

  private async loadGeometry(): Promise<void> {
    this.clearError('geometry');
    const path = this.geometryPath.value.trim();
    if (!path) {
      this.showError('geometry', 'type the path of a GeoJSON, GeoPackage or shapefile (relative to the server root)');
      return;
    }
    try {
      const found = await postAPI<any>('geometry', { path });
      this.setExtentGeometry(found.geometry);
      this.setStatus(`extent loaded from ${found.path} (${found.features} feature(s))`);
    } catch (error) {
      this.handleError(error);
    }
  }

  private usePlace(): void {
    const place = this.settings.places.find(p => p.name === this.placeSelect.value);
    if (place) {
      this.setExtentGeometry(place.geometry);
    }
  }

  private async savePlace(): Promise<void> {
    this.clearError('place');
    const name = this.placeName.value.trim();
    const geometry = this.extentGeometry();
    if (!name) {
      this.showError('place', 'give the place a name');
      return;
    }
    if (!geometry) {
      this.showError('place', 'draw or load an extent first');
      return;
    }
    const places = this.settings.places.filter(p => p.name !== name).concat([{ name, geometry }]);
    await this.host.savePlaces(places);
    this.settings = { ...this.settings, places };
    this.renderPlaces();
    this.placeSelect.value = name;
    this.setStatus(`place "${name}" saved in your settings`);
  }

  // -- providers, collections, queryables ------------------------------------------------------------------
  private async loadProviders(): Promise<void> {
    this.clearError('provider');
    try {
      const found = await requestAPI<any>('providers');
      this.provider.setOptions(found.providers.map((p: any) => ({ id: p.id, title: p.id, description: p.description })),
        found.default || undefined);
      if (found.default) {
        this.provider.value = found.default;
      }
      await this.loadCollections();
    } catch (error) {
      this.handleError(error, 'provider');
    }
  }

  private async loadCollections(): Promise<void> {
    this.clearError('provider');
    this.clearError('collection');
    const provider = this.provider.value;
    try {
      const found = await requestAPI<any>(`collections?provider=${encodeURIComponent(provider)}`);
      this.collection.setOptions(found.collections);
      this.node.dataset.collections = String(found.collections.length);
      await this.loadQueryables();
    } catch (error) {
      this.collection.setOptions([]);
      this.handleError(error, 'provider');
    }
  }

  private async loadQueryables(): Promise<void> {
    const collection = this.collection.value;
    if (!collection) {
      return;
    }
    try {
      const found = await requestAPI<any>(
        `queryables?provider=${encodeURIComponent(this.provider.value)}&collection=${encodeURIComponent(collection)}`);
      this.queryables = found.queryables;
      this.renderQueryables();
    } catch (error) {
      this.handleError(error, 'collection');
    }
  }

  private renderQueryables(): void {
    const previous: Record<string, string> = {};
    this.extraFields.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-queryable]').forEach(node => {
      previous[node.dataset.queryable!] = node.value;
    });
    this.extraFields.textContent = '';
    const fields = Object.keys(this.queryables).length ? this.queryables : { cloud_cover: { title: 'Max cloud cover (%)', type: 'number', minimum: 0, maximum: 100 } };
    for (const [name, spec] of Object.entries<any>(fields)) {
      let input: HTMLInputElement | HTMLSelectElement;
      if (Array.isArray(spec.enum)) {
        input = el('select', { 'data-queryable': name, 'data-field': name });
        input.append(el('option', { value: '', text: '' }));
        for (const value of spec.enum) {
          input.append(el('option', { value: String(value), text: String(value) }));
        }
      } else {
        const numeric = spec.type === 'number' || spec.type === 'integer';
        input = el('input', { type: numeric ? 'number' : 'text', 'data-queryable': name, 'data-field': name });
        if (spec.minimum !== undefined) {
          input.setAttribute('min', String(spec.minimum));
        }
        if (spec.maximum !== undefined) {
          input.setAttribute('max', String(spec.maximum));
        }
      }
      input.dataset.type = spec.type || 'string';
      input.value = previous[name] ?? '';
      this.extraFields.append(el('label', { text: spec.title || name, title: spec.description || name }), input,
        this.fieldError(name));
    }
  }

  // -- errors -------------------------------------------------------------------------------------------------
  private clearError(name: string): void {
    if (this.errors[name]) {
      this.errors[name].textContent = '';
    }
  }

  private clearErrors(): void {
    for (const node of Object.values(this.errors)) {
      node.textContent = '';
    }
  }

  private showError(name: string, message: string): void {
    const node = this.errors[name] ?? this.errors.query;
    node.textContent = message;
  }

  private handleError(error: unknown, fallback = 'provider'): void {
    if (error instanceof CatalogApiError) {
      const field = error.status === 502 ? 'provider' : error.parameter && this.errors[error.parameter] ? error.parameter : fallback;
      this.showError(field, error.message);
      this.setStatus(error.status === 502 ? `provider ${error.provider ?? ''} failed` : 'fix the parameter shown in red');
    } else {
      this.setStatus(String(error));
    }
  }

  private setStatus(text: string): void {
    this.status.textContent = text;
  }

  // -- search ---------------------------------------------------------------------------------------------------
  /** The search request the form describes (the server writes the same arguments into the cell). */
  searchRequest(): Record<string, any> {
    const body: Record<string, any> = { provider: this.provider.value || null, collection: this.collection.value,
      ...this.extentArguments() };
    if (this.start.value) {
      body.start = this.start.value;
    }
    if (this.end.value) {
      body.end = this.end.value;
    }
    if (this.limit.value) {
      body.limit = Number(this.limit.value);
    }
    const query: Record<string, any> = {};
    this.extraFields.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-queryable]').forEach(node => {
      if (node.value === '') {
        return;
      }
      const numeric = node.dataset.type === 'number' || node.dataset.type === 'integer';
      const value = numeric ? Number(node.value) : node.value;
      if (node.dataset.queryable === 'cloud_cover') {
        body.cloud_cover = value;
      } else {
        query[node.dataset.queryable!] = value;
      }
    });
    for (const line of this.freeParams.value.split('\n')) {
      const at = line.indexOf('=');
      if (at > 0) {
        const key = line.slice(0, at).trim();
        const raw = line.slice(at + 1).trim();
        const asNumber = Number(raw);
        query[key] = raw !== '' && !isNaN(asNumber) ? asNumber : raw;
      }
    }
    if (Object.keys(query).length) {
      body.query = query;
    }
    body.count = this.count.checked;
    return body;
  }

  async search(): Promise<void> {
    this.clearErrors();
    if (!this.collection.value) {
      this.showError('collection', 'choose a collection');
      return;
    }
    this.setStatus('searching…');
    this.node.dataset.state = 'searching';
    const started = performance.now();
    try {
      const reply = await postAPI<ISearchReply>('search', this.searchRequest());
      this.reply = reply;
      this.page = 0;
      this.selected = new Set();
      this.renderPage();
      const seconds = ((performance.now() - started) / 1000).toFixed(2);
      const matched = reply.matched !== null ? ` of ${reply.matched} matching` : '';
      this.setStatus(`${reply.returned} item(s)${matched} from ${reply.provider} in ${seconds} s`);
      this.node.dataset.state = 'results';
    } catch (error) {
      this.node.dataset.state = 'error';
      this.handleError(error, 'query');
    }
  }

  private pageItems(): any[] {
    if (!this.reply) {
      return [];
    }
    const size = this.settings.pageSize;
    return this.reply.items.slice(this.page * size, (this.page + 1) * size);
  }

  private renderPage(): void {
    const reply = this.reply!;
    const size = this.settings.pageSize;
    const pages = Math.max(1, Math.ceil(reply.items.length / size));
    this.page = Math.min(this.page, pages - 1);
    this.table.textContent = '';
    this.rows.clear();
    this.footprintLayer.clearLayers();
    this.footprints.clear();
    const all = el('input', { type: 'checkbox', title: 'select every item of this page' });
    all.addEventListener('change', () => {
      for (const item of this.pageItems()) {
        if (all.checked) {
          this.selected.add(item.id);
        } else {
          this.selected.delete(item.id);
        }
      }
      this.renderPage();
    });
    this.table.append(el('tr', {}, el('th', {}, all), el('th', { text: 'date' }), el('th', { text: 'collection' }),
      el('th', { text: 'cloud' }), el('th', { text: 'id' })));
    for (const item of this.pageItems()) {
      const summary = item['ai4geo:summary'] || {};
      const check = el('input', { type: 'checkbox' });
      check.checked = this.selected.has(item.id);
      check.addEventListener('click', event => event.stopPropagation());
      check.addEventListener('change', () => {
        if (check.checked) {
          this.selected.add(item.id);
        } else {
          this.selected.delete(item.id);
        }
      });
      const cloud = summary.cloud_cover === null || summary.cloud_cover === undefined ? '' : Number(summary.cloud_cover).toFixed(1);
      const row = el('tr', { class: 'ai4geo-result', 'data-item-id': item.id },
        el('td', {}, check), el('td', { text: String(summary.datetime || '').slice(0, 10) }),
        el('td', { text: item.collection || '' }), el('td', { text: cloud }), el('td', { text: item.id, title: item.id }));
      row.addEventListener('mouseenter', () => this.highlight(item.id, true));
      row.addEventListener('mouseleave', () => this.highlight(item.id, false));
      row.addEventListener('click', () => this.showDetails(item));
      this.table.append(row);
      this.rows.set(item.id, row);
      if (item.geometry) {
        const layer = L.geoJSON(item.geometry, { style: FOOTPRINT });
        layer.on('mouseover', () => this.highlight(item.id, true));
        layer.on('mouseout', () => this.highlight(item.id, false));
        layer.on('click', () => this.showDetails(item));
        layer.eachLayer(l => (l as any).getElement?.()?.setAttribute('data-item-id', item.id));
        layer.addTo(this.footprintLayer);
        this.footprints.set(item.id, layer);
        layer.eachLayer(l => (l as any).getElement?.()?.setAttribute('data-item-id', item.id));
      }
    }
    const bounds = this.footprintLayer.getBounds();
    if (bounds.isValid()) {
      this.map?.fitBounds(bounds.extend(this.extentLayer.getBounds().isValid() ? this.extentLayer.getBounds() : bounds),
        { maxZoom: 13 });
    }
    this.resultsInfo.textContent = reply.items.length
      ? `${reply.items.length} item(s); page ${this.page + 1} of ${pages}`
      : 'No item matches this search.';
    this.pager.textContent = '';
    const previous = this.button('‹ Previous', () => { this.page -= 1; this.renderPage(); }, { 'data-action': 'previous-page' });
    const next = this.button('Next ›', () => { this.page += 1; this.renderPage(); }, { 'data-action': 'next-page' });
    previous.disabled = this.page === 0;
    next.disabled = this.page >= pages - 1;
    this.pager.append(previous, next);
  }

  private highlight(id: string, on: boolean): void {
    this.rows.get(id)?.classList.toggle('ai4geo-hover', on);
    const layer = this.footprints.get(id);
    if (layer) {
      layer.setStyle(on ? HIGHLIGHT : FOOTPRINT);
      if (on) {
        layer.bringToFront();
      }
    }
    if (on) {
      this.rows.get(id)?.scrollIntoView({ block: 'nearest' });
    }
  }

  private showDetails(item: any): void {
    for (const row of this.rows.values()) {
      row.classList.remove('ai4geo-selected');
    }
    this.rows.get(item.id)?.classList.add('ai4geo-selected');
    this.details.textContent = '';
    this.details.dataset.itemId = item.id;
    this.details.append(el('div', {}, el('b', { text: item.id })));
    const thumbnail = item['ai4geo:summary']?.thumbnail;
    if (thumbnail) {
      this.details.append(el('img', { src: thumbnail, alt: `quicklook of ${item.id}` }));
    }
    const table = el('table', { 'data-field': 'properties' });
    const props = item.properties || {};
    for (const key of Object.keys(props).sort()) {
      const value = props[key];
      table.append(el('tr', {}, el('th', { text: key }),
        el('td', { text: typeof value === 'object' ? JSON.stringify(value) : String(value) })));
    }
    table.append(el('tr', {}, el('th', { text: 'assets' }), el('td', { text: Object.keys(item.assets || {}).join(', ') })));
    this.details.append(table);
  }

  // -- actions ----------------------------------------------------------------------------------------------------
  private async insertCode(): Promise<void> {
    if (!this.reply) {
      this.setStatus('search first: the cell repeats the last search');
      return;
    }
    try {
      await this.host.insertCode(this.reply.code, this.settings.replaceCode);
      this.setStatus('code inserted into the notebook');
    } catch (error) {
      this.setStatus(`could not insert the code: ${error}`);
    }
  }

  private selectedIds(): string[] {
    return this.reply ? this.reply.items.map(i => i.id).filter(id => this.selected.has(id)) : [];
  }

  private async download(): Promise<void> {
    this.clearError('folder');
    this.clearError('ids');
    if (!this.reply) {
      this.showError('ids', 'search first');
      return;
    }
    const ids = this.selectedIds();
    if (!ids.length) {
      this.showError('ids', 'tick the items to download');
      return;
    }
    try {
      let task = await postAPI<any>('download', { search_id: this.reply.search_id, ids, folder: this.downloadFolder.value });
      this.renderProgress(task);
      while (task.state === 'running') {
        await new Promise(resolve => setTimeout(resolve, 500));
        task = await requestAPI<any>(`download/${task.task_id}`);
        this.renderProgress(task);
      }
      this.setStatus(task.state === 'done' ? `downloaded into ${task.folder}` : 'some downloads failed');
    } catch (error) {
      this.handleError(error, 'folder');
    }
  }

  private renderProgress(task: any): void {
    this.progress.textContent = '';
    this.progress.dataset.state = task.state;
    for (const [id, entry] of Object.entries<any>(task.items)) {
      const text = entry.state === 'error' ? `${id}: ${entry.error}` : `${id}: ${entry.state}${entry.path ? ` → ${entry.path}` : ''}`;
      const li = el('li', { 'data-state': entry.state, 'data-item-id': id, text });
      if (entry.state === 'done' && entry.path) {
        const open = this.button('Open in 2D viewer', () => {
          void this.host.openIn2DViewer(entry.path).then(found => {
            if (!found) {
              this.setStatus(`no GeoTIFF in ${entry.path}`);
            }
          });
        }, { 'data-action': 'open-2d' });
        li.append(' ', open);
      }
      this.progress.append(li);
    }
  }

  private async saveStac(): Promise<void> {
    this.clearError('path');
    if (!this.reply) {
      this.showError('path', 'search first');
      return;
    }
    try {
      const ids = this.selectedIds();
      const saved = await postAPI<any>('save', { search_id: this.reply.search_id, path: this.savePath.value,
        ...(ids.length ? { ids } : {}) });
      this.setStatus(`${saved.items} item(s) saved as STAC in ${saved.path}`);
      this.host.openPath(saved.path);
    } catch (error) {
      this.handleError(error, 'path');
    }
  }
}
