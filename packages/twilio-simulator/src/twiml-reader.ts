import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * Reads the TwiML a voice webhook answered (or a call was created with) into
 * its verbs, in document order, with their attributes, text and nouns
 * (`<Dial><Number>…</Number></Dial>`). fast-xml-parser does the XML; this
 * file only shapes its ordered output.
 */
export interface TwimlVerb {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: TwimlVerb[];
}

export type TwimlResult = { ok: true; verbs: TwimlVerb[] } | { ok: false; reason: string };

type OrderedNode = Record<string, unknown> & { ':@'?: Record<string, unknown> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
});

function toVerbs(nodes: unknown): TwimlVerb[] {
  if (!Array.isArray(nodes)) return [];
  const out: TwimlVerb[] = [];
  for (const raw of nodes as OrderedNode[]) {
    const name = Object.keys(raw).find((k) => k !== ':@');
    if (name === undefined || name === '#text' || name.startsWith('?')) continue;
    const attrs: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw[':@'] ?? {})) attrs[k] = String(v);
    const inner = raw[name];
    const text = Array.isArray(inner)
      ? (inner as OrderedNode[])
          .map((n) => (n['#text'] === undefined ? '' : String(n['#text'])))
          .join('')
          .trim()
      : '';
    out.push({ name, attrs, text, children: toVerbs(inner) });
  }
  return out;
}

export function readTwiml(xml: string): TwimlResult {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return { ok: false, reason: `TwiML is not XML: ${valid.err.msg}` };
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch (err) {
    return { ok: false, reason: `TwiML is not XML: ${err instanceof Error ? err.message : String(err)}` };
  }
  const top = toVerbs(doc);
  const response = top.find((v) => v.name === 'Response');
  if (!response) return { ok: false, reason: 'TwiML has no <Response> root' };
  return { ok: true, verbs: response.children };
}
