/** Where the viewer's layers come from: the Jupyter server's /ai4geo/scene3d endpoints, or inline data. */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { IPayload, unpack } from './payload';

export interface IFrame {
  crs: string;
  origin: [number, number];
}

export interface ILayerInfo {
  path: string;
  kind: 'terrain' | 'buildings' | 'points' | 'mesh';
  name: string;
  crs: string | null;
  bounds: [number, number, number, number];
  zmin: number;
  zmax: number;
  levels?: number;
  drape?: string;
  classes?: number[];
  count?: number;
  /** point clouds: the most points a tile of the server's quadtree holds */
  tile_points?: number;
  classification?: boolean;
  triangles?: number;
  georeferenced?: boolean;
  /** meshes: the most triangles of each level of detail (coarsest first, the full mesh last) */
  level_triangles?: number[];
}

export interface ISceneSource {
  info(path: string): Promise<ILayerInfo>;
  terrain(path: string, level: number, x: number, y: number, frame: IFrame, drape?: string): Promise<IPayload>;
  points(path: string, level: number, x: number, y: number, frame: IFrame): Promise<IPayload>;
  buildings(path: string, frame: IFrame): Promise<IPayload>;
  mesh(path: string, frame: IFrame, level?: number): Promise<IPayload>;
}

async function request(route: string, params: Record<string, string>): Promise<Response> {
  const settings = ServerConnection.makeSettings();
  const query = new URLSearchParams(params).toString();
  const url = URLExt.join(settings.baseUrl, 'ai4geo', 'scene3d', route) + (query ? `?${query}` : '');
  const response = await ServerConnection.makeRequest(url, {}, settings);
  if (!response.ok) {
    throw new Error(`${route}: ${response.status} ${response.statusText}`);
  }
  return response;
}

function frameParams(frame: IFrame): Record<string, string> {
  return { crs: frame.crs, origin: `${frame.origin[0]},${frame.origin[1]}` };
}

/** The server: token and XSRF handled by ServerConnection, paths relative to the server root. */
export class ServerSource implements ISceneSource {
  async info(path: string): Promise<ILayerInfo> {
    return (await (await request('info', { path })).json()) as ILayerInfo;
  }
  async terrain(path: string, level: number, x: number, y: number, frame: IFrame, drape?: string): Promise<IPayload> {
    const params: Record<string, string> = { path, ...frameParams(frame) };
    if (drape) {
      params.drape = drape;
    }
    return unpack(await (await request(`terrain/${level}/${x}/${y}`, params)).arrayBuffer());
  }
  async points(path: string, level: number, x: number, y: number, frame: IFrame): Promise<IPayload> {
    return unpack(await (await request(`points/${level}/${x}/${y}`, { path, ...frameParams(frame) })).arrayBuffer());
  }
  async buildings(path: string, frame: IFrame): Promise<IPayload> {
    return unpack(await (await request('buildings', { path, ...frameParams(frame) })).arrayBuffer());
  }
  async mesh(path: string, frame: IFrame, level?: number): Promise<IPayload> {
    const params: Record<string, string> = { path, ...frameParams(frame) };
    if (level !== undefined) {
      params.level = String(level);
    }
    return unpack(await (await request('mesh', params)).arrayBuffer());
  }
}
