/**
 * The twilsock V3 wire format: `TWILSOCK V3.0 <headerBytes>\r\n<JSON header>\r\n<payload>`.
 * The header carries `payload_size` (bytes) and `payload_type`; sizes are in
 * bytes, not characters, so a non-ASCII body still frames correctly.
 */
export interface TwilsockHeader {
  method: string;
  id: string;
  payload_size?: number;
  payload_type?: string;
  [field: string]: unknown;
}

export interface TwilsockFrame {
  header: TwilsockHeader;
  /** Parsed JSON when the payload type is JSON, the raw text otherwise, undefined when empty. */
  payload: unknown;
}

const MAGIC = 'TWILSOCK V3.0';

export class TwilsockFrameError extends Error {
  override readonly name = 'TwilsockFrameError';
}

export function encodeFrame(header: TwilsockHeader, payload?: unknown): Buffer {
  const body = payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload);
  const bodyBytes = Buffer.from(body, 'utf8');
  const fullHeader: TwilsockHeader = { ...header, payload_size: bodyBytes.length };
  if (bodyBytes.length > 0 && fullHeader.payload_type === undefined) fullHeader.payload_type = 'application/json';
  const headerBytes = Buffer.from(JSON.stringify(fullHeader), 'utf8');
  return Buffer.concat([
    Buffer.from(`${MAGIC} ${headerBytes.length}\r\n`),
    headerBytes,
    Buffer.from('\r\n'),
    bodyBytes,
  ]);
}

export function decodeFrame(data: Buffer | ArrayBuffer | Buffer[]): TwilsockFrame {
  const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  const eol = buf.indexOf('\r\n');
  if (eol < 0) throw new TwilsockFrameError('no magic line');
  const magic = buf.subarray(0, eol).toString('latin1').split(' ');
  if (`${magic[0]} ${magic[1]}` !== MAGIC) throw new TwilsockFrameError(`unsupported protocol ${magic[0]} ${magic[1]}`);
  const headerSize = Number(magic[2]);
  if (!Number.isInteger(headerSize) || headerSize <= 0) throw new TwilsockFrameError('bad header size');
  const headerStart = eol + 2;
  const header = JSON.parse(buf.subarray(headerStart, headerStart + headerSize).toString('utf8')) as TwilsockHeader;
  if (typeof header.method !== 'string') throw new TwilsockFrameError('header without method');
  const payloadSize = typeof header.payload_size === 'number' ? header.payload_size : 0;
  const payloadStart = headerStart + headerSize + 2;
  if (payloadSize === 0) return { header, payload: undefined };
  const text = buf.subarray(payloadStart, payloadStart + payloadSize).toString('utf8');
  const type = header.payload_type ?? 'application/json';
  return { header, payload: type.startsWith('application/json') ? (JSON.parse(text) as unknown) : text };
}
