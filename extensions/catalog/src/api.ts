import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/** An error answered by the catalog REST API: `parameter` names the form field at fault. */
export class CatalogApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly parameter: string | null,
    readonly provider: string | null
  ) {
    super(message);
  }
}

/** Call `<base_url>ai4geo/catalog/<path>` with the Lab's token and XSRF cookie. */
export async function requestAPI<T>(path: string, init: RequestInit = {}): Promise<T> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'ai4geo/catalog', path);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new CatalogApiError(`the Jupyter server did not answer: ${error}`, 0, null, null);
  }
  const text = await response.text();
  let data: any = {};
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    data = { message: text };
  }
  if (!response.ok) {
    throw new CatalogApiError(
      data.message || response.statusText,
      response.status,
      data.parameter ?? null,
      data.provider ?? null
    );
  }
  return data as T;
}

export function postAPI<T>(path: string, body: unknown): Promise<T> {
  return requestAPI<T>(path, { method: 'POST', body: JSON.stringify(body) });
}
