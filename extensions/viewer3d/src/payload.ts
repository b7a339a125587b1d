/** The A4G3 binary frame (ai4geo_kernel.scene3d.pack_arrays): magic, uint32 header length, JSON, arrays. */
export interface IPayload {
  meta: any;
  arrays: Record<string, Float32Array | Uint32Array | Uint8Array | Uint16Array | Int32Array>;
}

const TYPES: Record<string, any> = {
  float32: Float32Array,
  uint32: Uint32Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  int32: Int32Array
};

export function unpack(buffer: ArrayBuffer): IPayload {
  const magic = new TextDecoder().decode(new Uint8Array(buffer, 0, 4));
  if (magic !== 'A4G3') {
    throw new Error('not an A4G3 payload');
  }
  const length = new DataView(buffer).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buffer, 8, length)));
  const base = 8 + length;
  const arrays: IPayload['arrays'] = {};
  for (const entry of header.arrays) {
    const Type = TYPES[entry.dtype];
    const count = entry.shape.reduce((a: number, b: number) => a * b, 1);
    arrays[entry.name] = new Type(buffer, base + entry.offset, count);
  }
  return { meta: header.meta, arrays };
}

export function fromBase64(text: string): ArrayBuffer {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes.buffer;
}
