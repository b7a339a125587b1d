/**
 * The 3D scene viewer (deck.gl, bundled): terrain tiles by level of detail, extruded buildings, point
 * clouds and meshes in one metric frame; layers panel (visibility, opacity, drape, class filter), orbit and
 * fly navigation, vertical exaggeration, two dates side by side with linked cameras or under one camera with a
 * before/after slider (layers of side left/right). Used by the Lab
 * document widget and by the notebook output renderer.
 */
import { Deck, LayerExtension, OrbitView, COORDINATE_SYSTEM } from '@deck.gl/core';
import { SimpleMeshLayer } from '@deck.gl/mesh-layers';
import { attributeTable, buildingLayers, buildingRows, buildingSummary, decodeBuildings } from './buildings';
import { classColor, el, ramp } from './colors';
import { loadMeshLevels, meshLayer, meshNote } from './mesh';
import { ITileKey, selectTiles, tileId } from './lod';
import { IPayload } from './payload';
import { classesOf, dropPointTiles, pointLayers, pointLod } from './points';
import { IFrame, ILayerInfo, ISceneSource } from './source';

export interface ILayerState {
  id: string;
  path: string;
  info: ILayerInfo;
  visible: boolean;
  opacity: number;
  side: 'both' | 'left' | 'right';
  drape?: string;
  drapeInfo?: ILayerInfo;
  colorBy?: string;
  /** shown classes (class raster values, point classes or a building attribute's values); null = all */
  classes: Set<string> | null;
  allClasses: string[];
  tiles: Map<string, IPayload>;
  pending: Set<string>;
  buildings?: any;
  mesh?: IPayload;
  /** meshes: the levels of detail drawn so far, in order (mesh.ts loadMeshLevels) */
  meshLevels?: number[];
}

/** How layers of side left and right are compared: all in one view, two linked views, or a slider. */
export type CompareMode = 'off' | 'side' | 'slider';

/** Uniforms of the slider's screen-space split: the drawn range [lo, hi) of gl_FragCoord.x (device pixels). */
const splitModule = {
  name: 'a4gSplit',
  fs: 'uniform a4gSplitUniforms {\n  float lo;\n  float hi;\n} a4gSplit;\n',
  uniformTypes: { lo: 'f32', hi: 'f32' }
};

/**
 * The before/after slider: a layer draws, and picks, only its fragments left or right of the divider.
 * deck.gl's ClipExtension pattern (a discard in DECKGL_FILTER_COLOR), in screen space instead of world space:
 * one canvas, one camera and one copy of every tile serve both dates, and picking follows the divider because
 * the picking pass runs the same fragment shader. deck.gl has no screen-space clip of its own.
 */
class ScreenSplitExtension extends LayerExtension {
  static defaultProps = { splitRange: [0, 1e9] };
  static extensionName = 'ScreenSplitExtension';
  getShaders(): any {
    return {
      modules: [splitModule],
      inject: { 'fs:DECKGL_FILTER_COLOR': 'if (gl_FragCoord.x < a4gSplit.lo || gl_FragCoord.x >= a4gSplit.hi) discard;' }
    };
  }
  draw(this: any): void {
    const [lo, hi] = this.props.splitRange;
    const ratio = this.context.device.canvasContext.cssToDeviceRatio();
    this.setShaderModuleProps({ a4gSplit: { lo: lo * ratio, hi: hi * ratio } });
  }
}
const SPLIT = new ScreenSplitExtension();

export class SceneViewer {
  readonly node: HTMLDivElement;
  readonly layers: ILayerState[] = [];
  frame: IFrame | null = null;
  exaggeration = 1;
  compare: CompareMode = 'off';
  /** Slider position, a fraction of the canvas width: layers of side left draw left of it, right ones right. */
  split = 0.5;
  mode: 'orbit' | 'fly' = 'orbit';
  private _divider: HTMLDivElement;
  private _deck: any = null;
  private _canvasHost: HTMLDivElement;
  private _panel: HTMLDivElement;
  private _list: HTMLDivElement;
  private _attributes: HTMLDivElement;
  private _status: HTMLDivElement;
  private _viewState: any = { target: [0, 0, 0], rotationX: 35, rotationOrbit: 20, zoom: -1, minZoom: -8, maxZoom: 8 };
  private _frameTimes: number[] = [];
  private _firstFrame = 0;
  private _started = performance.now();
  private _keys = new Set<string>();
  private _flyTimer = 0;
  private _zrange: [number, number] = [0, 1];

  constructor(private readonly source: ISceneSource, options: { panel?: boolean } = {}) {
    this.node = el('div', 'a4g-viewer3d');
    this.node.tabIndex = 0;
    this._canvasHost = el('div', 'a4g-v3d-canvas');
    this._panel = el('div', 'a4g-v3d-panel');
    this._list = el('div', 'a4g-v3d-layers');
    this._attributes = el('div', 'a4g-v3d-attributes');
    this._status = el('div', 'a4g-v3d-status');
    this._divider = this._buildDivider();
    this.node.append(this._canvasHost, this._divider, this._panel, this._attributes, this._status);
    this.setSplit(this.split);
    if (options.panel === false) {
      this._panel.style.display = 'none';
    }
    this._buildPanel();
    this.node.addEventListener('keydown', event => this._key(event, true));
    this.node.addEventListener('keyup', event => this._key(event, false));
    (this.node as any).a4gViewer = this;
  }

  /** Frame statistics for tests and benchmarks. */
  stats(): { firstFrameMs: number; frames: number; meanFrameMs: number; layers: number } {
    const times = this._frameTimes.slice(-60);
    const deltas = times.slice(1).map((t, i) => t - times[i]);
    return {
      firstFrameMs: this._firstFrame,
      frames: this._frameTimes.length,
      meanFrameMs: deltas.length ? deltas.reduce((a, b) => a + b, 0) / deltas.length : 0,
      layers: this.layers.length
    };
  }

  private _buildPanel(): void {
    const title = el('div', 'a4g-v3d-title', '3D scene');
    const add = el('div', 'a4g-v3d-add');
    const input = el('input', 'a4g-v3d-add-path');
    input.placeholder = 'path/to/layer (tif, city.json, gml, las, laz, ply, glb)';
    const button = el('button', 'a4g-v3d-add-button', 'Add');
    button.onclick = () => {
      if (input.value) {
        void this.addLayer(input.value.trim());
        input.value = '';
      }
    };
    add.append(input, button);
    const controls = el('div', 'a4g-v3d-controls');
    const exaggeration = el('input', 'a4g-v3d-exaggeration');
    exaggeration.type = 'range';
    exaggeration.min = '1';
    exaggeration.max = '10';
    exaggeration.step = '0.5';
    exaggeration.value = '1';
    exaggeration.title = 'vertical exaggeration';
    exaggeration.oninput = () => {
      this.exaggeration = Number(exaggeration.value);
      this.render();
    };
    const mode = el('select', 'a4g-v3d-mode');
    for (const name of ['orbit', 'fly']) {
      const option = el('option', '', name);
      option.value = name;
      mode.append(option);
    }
    mode.onchange = () => {
      this.mode = mode.value as 'orbit' | 'fly';
      window.setTimeout(() => this.node.focus({ preventScroll: true })); // after the select's own handling
    };
    const compare = el('select', 'a4g-v3d-compare');
    compare.title = 'compare the layers of side left and right';
    for (const [value, label] of [['off', 'no comparison'], ['side', 'side by side'], ['slider', 'slider']]) {
      const option = el('option', '', label);
      option.value = value;
      compare.append(option);
    }
    compare.onchange = () => {
      this.setCompare(compare.value as CompareMode);
    };
    const exLabel = el('label', '', 'exaggeration ');
    exLabel.append(exaggeration);
    controls.append(exLabel, mode, compare);
    this._panel.append(title, add, controls, this._list);
  }

  /** Compare the layers of side left and right: 'side' (two linked views), 'slider' (one view, a divider). */
  setCompare(mode: CompareMode | boolean): void {
    this.compare = mode === true ? 'side' : mode === false ? 'off' : mode;
    this.node.dataset.compare = this.compare;
    const select = this._panel.querySelector('.a4g-v3d-compare') as HTMLSelectElement | null;
    if (select) {
      select.value = this.compare;
    }
    this._divider.style.display = this.compare === 'slider' ? 'block' : 'none';
    this._deck?.setProps({ views: this._views(), viewState: this._viewStates() });
    this.render();
  }

  /** Move the slider's divider to ``fraction`` of the canvas width (clamped to [0, 1]). */
  setSplit(fraction: number): void {
    this.split = Math.min(1, Math.max(0, fraction));
    this._divider.style.left = `${this.split * 100}%`;
    this._divider.setAttribute('aria-valuenow', String(Math.round(this.split * 100)));
    this.node.dataset.split = this.split.toFixed(4);
    this.render();
  }

  private _buildDivider(): HTMLDivElement {
    const divider = el('div', 'a4g-v3d-divider');
    divider.append(el('div', 'a4g-v3d-divider-handle'));
    divider.tabIndex = 0;
    divider.title = 'drag, or focus and use the arrow keys: before (left) / after (right)';
    divider.setAttribute('role', 'slider');
    divider.setAttribute('aria-valuemin', '0');
    divider.setAttribute('aria-valuemax', '100');
    divider.style.display = 'none';
    const moveTo = (event: PointerEvent): void => {
      const box = this._canvasHost.getBoundingClientRect();
      this.setSplit((event.clientX - box.left) / (box.width || 1));
    };
    divider.addEventListener('pointerdown', event => {
      event.preventDefault();
      event.stopPropagation();
      divider.setPointerCapture(event.pointerId);
      divider.focus();
    });
    divider.addEventListener('pointermove', event => {
      if (divider.hasPointerCapture(event.pointerId)) {
        moveTo(event);
      }
    });
    divider.addEventListener('pointerup', event => divider.releasePointerCapture(event.pointerId));
    divider.addEventListener('keydown', event => {
      const step = event.shiftKey ? 0.1 : 0.02;
      const moves: Record<string, number> = { ArrowLeft: -step, ArrowRight: step, Home: -1, End: 1 };
      if (event.key in moves) {
        event.preventDefault();
        event.stopPropagation(); // not a fly key while the divider has the focus
        this.setSplit(this.split + moves[event.key]);
      }
    });
    return divider;
  }

  /** In slider mode, layers of side left/right clipped at the divider (screen space); others unchanged. */
  private _splitLayers(layers: any[]): any[] {
    if (this.compare !== 'slider') {
      return layers;
    }
    const x = this.split * (this._canvasHost.clientWidth || 1);
    return layers.map(layer => {
      const side = String(layer.id).split(':')[1];
      if (side !== 'left' && side !== 'right') {
        return layer;
      }
      return layer.clone({
        extensions: [...(layer.props.extensions || []), SPLIT],
        splitRange: side === 'left' ? [-1e9, x] : [x, 1e9]
      });
    });
  }

  async addLayer(path: string, options: Partial<ILayerState> = {}): Promise<ILayerState> {
    const info = await this.source.info(path);
    const state: ILayerState = {
      id: `layer-${this.layers.length}-${info.name}`,
      path, info, visible: true, opacity: 1, side: 'both', classes: null, allClasses: [],
      tiles: new Map(), pending: new Set(), ...options
    };
    if (!this.layers.length) {
      const [w, s, e, n] = info.bounds;
      if (!this.frame) {
        this.frame = { crs: info.crs || 'EPSG:3857', origin: [Math.round((w + e) / 2), Math.round((s + n) / 2)] };
      }
      const origin = this.frame.origin;
      const size = Math.max(e - w, n - s, 1);
      this._zrange = [info.zmin, info.zmax];
      this._viewState = {
        ...this._viewState,
        target: [(w + e) / 2 - origin[0], (s + n) / 2 - origin[1], (info.zmin + info.zmax) / 2],
        zoom: Math.log2(600 / size)
      };
    } else if (info.kind !== 'mesh' || info.georeferenced) {
      // a mesh without georeferencing has heights of its own frame: it is set on the scene's lowest height
      this._zrange = [Math.min(this._zrange[0], info.zmin), Math.max(this._zrange[1], info.zmax)];
    }
    if (info.kind === 'terrain' && info.drape === 'classes') {
      state.allClasses = (info.classes || []).map(String);
    }
    this.layers.push(state);
    this._ensureDeck();
    this._renderList();
    await this._load(state);
    return state;
  }

  async setDrape(state: ILayerState, drape: string | undefined): Promise<void> {
    state.drape = drape || undefined;
    state.drapeInfo = drape ? await this.source.info(drape) : undefined;
    state.allClasses = state.drapeInfo?.drape === 'classes' ? (state.drapeInfo.classes || []).map(String) : [];
    state.classes = null;
    state.tiles.clear();
    this._renderList();
    await this._load(state);
  }

  setClasses(state: ILayerState, shown: string[] | null): void {
    state.classes = shown ? new Set(shown) : null;
    this._renderList();
    this.render();
  }

  private async _load(state: ILayerState): Promise<void> {
    const frame = this.frame as IFrame;
    const kind = state.info.kind;
    if (kind === 'terrain') {
      await this._loadTile(state, { level: 0, x: 0, y: 0 });
      this._refine();
    } else if (kind === 'points') {
      // tiles of the server's quadtree, chosen by the camera like terrain tiles (_select, _refine)
      await this._loadTile(state, { level: 0, x: 0, y: 0 });
      const root = state.tiles.get('0/0/0') as IPayload;
      state.allClasses = state.info.classes ? state.info.classes.map(String) : classesOf(root);
      this._renderList();
      this._refine();
    } else if (kind === 'buildings') {
      state.buildings = decodeBuildings(await this.source.buildings(state.path, frame));
      const categorical: string[] = state.buildings.categorical || [];
      state.colorBy = state.colorBy || 'height';
      if (categorical.length) {
        this._classesFromAttribute(state, state.colorBy === 'height' ? categorical[0] : state.colorBy);
      }
      this._renderList();
      this.render();
    } else {
      // level 0 (a decimation) drawn first; the finer levels replace it as they arrive (mesh.ts)
      await loadMeshLevels(state, level => this.source.mesh(state.path, frame, level), {
        draw: () => {
          this._renderList();
          this.render();
        },
        status: text => this._setStatus(text),
        wanted: () => this.layers.includes(state)
      });
    }
    this.node.dataset.ready = 'true';
  }

  private _classesFromAttribute(state: ILayerState, attribute: string): void {
    const values = new Set<string>();
    for (const feature of state.buildings.features) {
      values.add(String(feature.attributes[attribute]));
    }
    state.allClasses = Array.from(values).sort();
    (state as any).classAttribute = attribute;
  }

  private _tileId(key: ITileKey): string {
    return tileId(key);
  }

  private async _loadTile(state: ILayerState, key: ITileKey): Promise<void> {
    const id = this._tileId(key);
    if (state.tiles.has(id) || state.pending.has(id)) {
      return;
    }
    state.pending.add(id);
    try {
      const frame = this.frame as IFrame;
      const payload = state.info.kind === 'points'
        ? await this.source.points(state.path, key.level, key.x, key.y, frame)
        : await this.source.terrain(state.path, key.level, key.x, key.y, frame, state.drape);
      state.tiles.set(id, payload);
      if (state.info.kind === 'points') {
        this._setStatus(`${state.info.name}: ${state.tiles.size} tiles`);
      }
      this.render();
    } finally {
      state.pending.delete(id);
    }
  }

  /**
   * Tiles for the current camera (lod.selectTiles, one selection for both): terrain draws the leaves (a cell
   * of 64 samples refined above 3 pixels, at most 129 tiles), a point cloud the leaves and their ancestors
   * (its levels add up) under a point budget (points.pointLod).
   */
  private _select(state: ILayerState): ITileKey[] {
    const levels = state.info.levels || 1;
    const origin = (this.frame as IFrame).origin;
    if (state.info.kind === 'points') {
      return selectTiles(state.info.bounds, origin, levels, this._viewState, pointLod(state)).nodes;
    }
    return selectTiles(state.info.bounds, origin, levels, this._viewState, { samples: 64, budget: 129 }).leaves;
  }

  private _refineTimer = 0;
  private _refine(): void {
    window.clearTimeout(this._refineTimer);
    this._refineTimer = window.setTimeout(() => {
      for (const state of this.layers) {
        if ((state.info.kind !== 'terrain' && state.info.kind !== 'points') || !this.frame) {
          continue;
        }
        const selected = this._select(state);
        if (state.info.kind === 'points') {
          dropPointTiles(state, selected);
        }
        const wanted = selected.filter(key => !state.tiles.has(this._tileId(key)));
        let running = 0;
        const queue = wanted.slice();
        const next = (): void => {
          while (running < 4 && queue.length) {
            const key = queue.shift() as ITileKey;
            running++;
            void this._loadTile(state, key).finally(() => {
              running--;
              next();
            });
          }
        };
        next();
      }
    }, 150);
  }

  /** For each wanted tile, itself when loaded, else its closest loaded ancestor. */
  private _drawnTiles(state: ILayerState): [string, IPayload][] {
    const drawn = new Map<string, IPayload>();
    for (const key of this._select(state)) {
      let k = { ...key };
      while (k.level >= 0) {
        const id = this._tileId(k);
        const payload = state.tiles.get(id);
        if (payload) {
          drawn.set(id, payload);
          break;
        }
        k = { level: k.level - 1, x: k.x >> 1, y: k.y >> 1 };
      }
    }
    // a parent and a child both drawn overlap: keep the children, drop parents covered by any child
    const ids = Array.from(drawn.keys());
    for (const id of ids) {
      const [level, x, y] = id.split('/').map(Number);
      for (const other of ids) {
        const [ol, ox, oy] = other.split('/').map(Number);
        if (ol > level && ox >> (ol - level) === x && oy >> (ol - level) === y) {
          drawn.delete(id);
          break;
        }
      }
    }
    return Array.from(drawn.entries());
  }

  private _terrainColors(state: ILayerState, payload: IPayload): Float32Array {
    const positions = payload.arrays.positions as Float32Array;
    const n = positions.length / 3;
    const colors = new Float32Array(n * 3);
    const classes = payload.arrays.classes as Uint8Array | undefined;
    const rgb = payload.arrays.rgb as Uint8Array | undefined;
    const values = payload.arrays.values as Float32Array | undefined;
    const [zmin, zmax] = [state.info.zmin, state.info.zmax];
    for (let i = 0; i < n; i++) {
      let c: [number, number, number];
      if (classes) {
        const value = classes[i];
        c = !state.classes || state.classes.has(String(value)) ? classColor(value) : [70, 70, 70];
      } else if (rgb) {
        c = [rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]];
      } else if (values) {
        c = ramp((values[i] - (state.drapeInfo?.zmin || 0)) / ((state.drapeInfo?.zmax || 1) - (state.drapeInfo?.zmin || 0) || 1));
      } else {
        c = ramp((positions[i * 3 + 2] - zmin) / (zmax - zmin || 1));
      }
      colors[i * 3] = c[0] / 255;
      colors[i * 3 + 1] = c[1] / 255;
      colors[i * 3 + 2] = c[2] / 255;
    }
    return colors;
  }

  private _colorCache = new WeakMap<IPayload, { key: string; colors: Float32Array }>();
  private _cachedColors(state: ILayerState, payload: IPayload): Float32Array {
    const key = `${state.drape}|${state.classes ? Array.from(state.classes).join(',') : '*'}`;
    const cached = this._colorCache.get(payload);
    if (cached && cached.key === key) {
      return cached.colors;
    }
    const colors = this._terrainColors(state, payload);
    this._colorCache.set(payload, { key, colors });
    return colors;
  }

  private _pointCache = new WeakMap<IPayload, { key: string; data: any }>();

  private _rowsCache = new Map<string, { key: string; rows: any[] }>();

  private _modelMatrix(): number[] {
    const e = this.exaggeration;
    const z0 = this._zrange[0];
    // exaggerate heights above the lowest point of the scene so that the terrain stays in view
    return [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, e, 0, 0, 0, z0 - e * z0, 1];
  }

  private _deckLayers(): any[] {
    const out: any[] = [];
    const modelMatrix = this._modelMatrix();
    const common: any = { coordinateSystem: COORDINATE_SYSTEM.CARTESIAN, modelMatrix };
    for (const state of this.layers) {
      if (!state.visible) {
        continue;
      }
      const kind = state.info.kind;
      if (kind === 'terrain') {
        for (const [id, payload] of this._drawnTiles(state)) {
          const a = payload.arrays;
          out.push(new SimpleMeshLayer({
            id: `${state.id}:${state.side}:tile-${id}`,
            ...common,
            data: [0],
            getPosition: () => [0, 0, 0],
            getColor: [255, 255, 255],
            opacity: state.opacity,
            pickable: true,
            mesh: {
              attributes: {
                positions: { value: a.positions, size: 3 },
                normals: { value: a.normals, size: 3 },
                colors: { value: this._cachedColors(state, payload), size: 3 }
              },
              indices: { value: a.indices, size: 1 }
            },
            updateTriggers: { mesh: `${state.drape}|${state.classes ? Array.from(state.classes).join(',') : '*'}` }
          }));
        }
      } else if (kind === 'points') {
        out.push(...pointLayers(state, common, this._pointCache, this._select(state)));
      } else if (kind === 'buildings' && state.buildings) {
        const key = `${state.colorBy}|${state.classes ? Array.from(state.classes).join(',') : '*'}`;
        let cached = this._rowsCache.get(state.id);
        if (!cached || cached.key !== key) {
          cached = { key, rows: buildingRows(state) };
          this._rowsCache.set(state.id, cached);
        }
        out.push(...buildingLayers(state, common, cached.rows));
      } else if (kind === 'mesh' && state.mesh) {
        out.push(meshLayer(state, common, this._zrange[0]));
      }
    }
    return out;
  }

  private _views(): any[] {
    const controller = { inertia: false, keyboard: this.mode === 'orbit' };
    if (this.compare !== 'side') {
      return [new OrbitView({ id: 'main', orbitAxis: 'Z', controller, fovy: 50 } as any)];
    }
    return [
      new OrbitView({ id: 'left', x: 0, width: '50%', orbitAxis: 'Z', controller, fovy: 50 } as any),
      new OrbitView({ id: 'right', x: '50%', width: '50%', orbitAxis: 'Z', controller, fovy: 50 } as any)
    ];
  }

  private _ensureDeck(): void {
    if (this._deck) {
      return;
    }
    this._deck = new Deck({
      parent: this._canvasHost,
      width: '100%',
      height: '100%',
      views: this._views(),
      initialViewState: undefined,
      viewState: this._viewStates(),
      layers: [],
      deviceProps: { webgl: { preserveDrawingBuffer: true } },
      parameters: { clearColor: [0.08, 0.09, 0.11, 1] },
      onViewStateChange: ({ viewState }: any) => {
        this._viewState = { ...this._viewState, ...viewState };
        this._deck.setProps({ viewState: this._viewStates() });
        this._refine();
        this.render();
      },
      onAfterRender: () => {
        const now = performance.now();
        this._frameTimes.push(now);
        if (this._frameTimes.length > 600) {
          this._frameTimes.splice(0, 300);
        }
        if (!this._firstFrame && this.layers.some(l => this._hasData(l))) {
          this._firstFrame = now - this._started;
          this.node.dataset.firstFrame = String(Math.round(this._firstFrame));
        }
      },
      layerFilter: ({ layer, viewport }: any) => {
        if (this.compare !== 'side') {
          return true;
        }
        const side = String(layer.id).split(':')[1];
        return side === 'both' || side === viewport.id;
      },
      onClick: (info: any) => this._showAttributes(info),
      getCursor: ({ isHovering }: any) => (isHovering ? 'pointer' : 'grab')
    } as any);
  }

  private _hasData(state: ILayerState): boolean {
    return state.tiles.size > 0 || !!state.buildings || !!state.mesh;
  }

  private _viewStates(): any {
    const view = { ...this._viewState };
    return this.compare === 'side' ? { left: view, right: view } : { main: view };
  }

  private _showAttributes(info: any): void {
    const feature = info?.object?.feature;
    this._attributes.replaceChildren();
    if (!feature) {
      this._attributes.style.display = 'none';
      return;
    }
    const table = attributeTable(feature);
    const close = el('button', 'a4g-v3d-close', '×');
    close.onclick = () => {
      this._attributes.style.display = 'none';
    };
    this._attributes.append(close, table);
    this._attributes.style.display = 'block';
    this._attributes.dataset.id = String(feature.id);
  }

  private _setStatus(text: string): void {
    this._status.textContent = text;
  }

  private _key(event: KeyboardEvent, down: boolean): void {
    if (this.mode !== 'fly' || (event.target as HTMLElement).tagName === 'INPUT') {
      return;
    }
    const key = event.key.toLowerCase();
    if (!['w', 'a', 's', 'd', 'q', 'e', 'arrowup', 'arrowdown', 'arrowleft', 'arrowright'].includes(key)) {
      return;
    }
    event.preventDefault();
    if (down) {
      this._keys.add(key);
    } else {
      this._keys.delete(key);
    }
    if (this._keys.size && !this._flyTimer) {
      let last = performance.now();
      const step = (now: number): void => {
        if (!this._keys.size) {
          this._flyTimer = 0;
          return;
        }
        // the distance follows the time held, not the frame rate (a slow frame moves further)
        this._fly((Math.min(Math.max(now - last, 0), 250) * 60) / 1000);
        last = now;
        this._flyTimer = window.requestAnimationFrame(step);
      };
      this._flyTimer = window.requestAnimationFrame(step);
    }
  }

  /** Fly: move the camera target along the view direction (W/S), sideways (A/D), up and down (Q/E). */
  private _fly(frames = 1): void {
    const v = this._viewState;
    const speed = (8 * frames) / Math.pow(2, v.zoom); // 8 screen pixels per 1/60 s at the target
    const bearing = (v.rotationOrbit * Math.PI) / 180;
    // OrbitView turns the world by +rotationOrbit about Z: the camera looks along (sin, cos) (y north)
    const forward = [Math.sin(bearing), Math.cos(bearing)];
    const right = [forward[1], -forward[0]];
    const t = [...v.target];
    const k = this._keys;
    const f = (k.has('w') || k.has('arrowup') ? 1 : 0) - (k.has('s') || k.has('arrowdown') ? 1 : 0);
    const r = (k.has('d') || k.has('arrowright') ? 1 : 0) - (k.has('a') || k.has('arrowleft') ? 1 : 0);
    t[0] += (forward[0] * f + right[0] * r) * speed;
    t[1] += (forward[1] * f + right[1] * r) * speed;
    t[2] += ((k.has('e') ? 1 : 0) - (k.has('q') ? 1 : 0)) * speed;
    this._viewState = { ...v, target: t };
    this._deck?.setProps({ viewState: this._viewStates() });
    this._refine();
    this.render();
  }

  render(): void {
    this._deck?.setProps({ layers: this._splitLayers(this._deckLayers()) });
  }

  private _renderList(): void {
    this._list.replaceChildren();
    for (const state of this.layers) {
      const row = el('div', 'a4g-v3d-layer');
      row.dataset.kind = state.info.kind;
      row.dataset.name = state.info.name;
      const head = el('div', 'a4g-v3d-layer-head');
      const visible = el('input', 'a4g-v3d-visible');
      visible.type = 'checkbox';
      visible.checked = state.visible;
      visible.onchange = () => {
        state.visible = visible.checked;
        this.render();
      };
      const opacity = el('input', 'a4g-v3d-opacity');
      opacity.type = 'range';
      opacity.min = '0';
      opacity.max = '1';
      opacity.step = '0.05';
      opacity.value = String(state.opacity);
      opacity.oninput = () => {
        state.opacity = Number(opacity.value);
        this.render();
      };
      const side = el('select', 'a4g-v3d-side');
      for (const name of ['both', 'left', 'right']) {
        const option = el('option', '', name);
        option.value = name;
        option.selected = state.side === name;
        side.append(option);
      }
      side.onchange = () => {
        state.side = side.value as ILayerState['side'];
        this.render();
      };
      head.append(visible, el('span', 'a4g-v3d-layer-name', `${state.info.name} (${state.info.kind})`), opacity, side);
      row.append(head);
      const note = meshNote(state);
      if (note) {
        row.append(note);
      }
      if (state.info.kind === 'terrain') {
        const drape = el('input', 'a4g-v3d-drape');
        drape.placeholder = 'drape: image or class raster path (empty: height colours)';
        drape.value = state.drape || '';
        drape.onchange = () => void this.setDrape(state, drape.value.trim());
        row.append(drape);
      }
      if (state.info.kind === 'buildings' && state.buildings) {
        const colorBy = el('select', 'a4g-v3d-colorby');
        for (const name of ['height', ...(state.buildings.categorical || [])]) {
          const option = el('option', '', `colour by ${name}`);
          option.value = name;
          option.selected = state.colorBy === name;
          colorBy.append(option);
        }
        colorBy.onchange = () => {
          state.colorBy = colorBy.value;
          if (colorBy.value !== 'height') {
            this._classesFromAttribute(state, colorBy.value);
            state.classes = null;
          }
          this._renderList();
          this.render();
        };
        row.append(colorBy, buildingSummary(state));
      }
      if (state.allClasses.length) {
        const filter = el('div', 'a4g-v3d-classes');
        for (const value of state.allClasses) {
          const label = el('label', 'a4g-v3d-class');
          const box = el('input');
          box.type = 'checkbox';
          box.value = value;
          box.checked = !state.classes || state.classes.has(value);
          box.onchange = () => {
            const shown = Array.from(filter.querySelectorAll('input'))
              .filter(b => (b as HTMLInputElement).checked)
              .map(b => (b as HTMLInputElement).value);
            this.setClasses(state, shown.length === state.allClasses.length ? null : shown);
          };
          label.append(box, document.createTextNode(` ${value}`));
          filter.append(label);
        }
        row.append(filter);
      }
      this._list.append(row);
    }
  }

  dispose(): void {
    window.clearTimeout(this._refineTimer);
    this._deck?.finalize();
    this._deck = null;
  }
}
