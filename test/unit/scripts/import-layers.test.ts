import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { checkLayers, folderCycles, readImports, type ImportEdge } from '../../../scripts/import-layers';

const root = path.join(__dirname, '..', '..', '..');
const arch = parse(readFileSync(path.join(root, 'architecture.yaml'), 'utf8')) as {
  layers: string[];
  parts: Record<string, string>;
};
const folders = Object.keys(arch.parts);
const imports = readImports(root, ['src']);

describe('layering check', () => {
  it('finds the real imports of src/ and none of them breaks a layer', () => {
    expect(imports.length).toBeGreaterThan(100);
    expect(imports).toContainEqual({ from: 'src/main.ts', to: 'src/cli/cli.ts' });
    expect(checkLayers(imports, arch.layers, folders)).toEqual([]);
  });

  it('catches a planted upward import', () => {
    const planted: ImportEdge = { from: 'src/kafka/topics.ts', to: 'src/twilio/egress/pipeline.ts' };
    expect(checkLayers([...imports, planted], arch.layers, folders)).toContain(
      'upward import: src/kafka/topics.ts -> src/twilio/egress/pipeline.ts (src/kafka is below src/twilio)',
    );
  });

  it('catches a planted cycle between folders of one layer', () => {
    const planted: ImportEdge[] = [
      { from: 'src/twilio/webhooks/webhook-routes.ts', to: 'src/twilio/conversations/index.ts' },
      { from: 'src/twilio/conversations/index.ts', to: 'src/twilio/webhooks/index.ts' },
    ];
    expect(checkLayers([...imports, ...planted], arch.layers, folders)).toContain(
      'folder cycle: src/twilio/conversations <-> src/twilio/webhooks',
    );
  });

  it('catches a cycle around a loop of three folders and a file in no layer', () => {
    const edges: ImportEdge[] = [
      { from: 'a/x.ts', to: 'b/y.ts' },
      { from: 'b/y.ts', to: 'c/z.ts' },
      { from: 'c/z.ts', to: 'a/x.ts' },
    ];
    expect(folderCycles(edges)).toEqual([['a', 'b', 'c']]);
    expect(checkLayers([{ from: 'src/nowhere/x.ts', to: 'src/errors/index.ts' }], arch.layers)).toEqual([
      'layer: src/nowhere/x.ts is in no layer of architecture.yaml',
    ]);
  });

  it('lets a part import its own sub-folders and lower layers', () => {
    const edges: ImportEdge[] = [
      { from: 'src/envelope/index.ts', to: 'src/envelope/codecs/index.ts' },
      { from: 'src/envelope/codecs/json-codec.ts', to: 'src/envelope/schema.ts' },
      { from: 'src/server/build-server.ts', to: 'src/errors/index.ts' },
    ];
    expect(checkLayers(edges, arch.layers, folders)).toEqual([]);
  });
});
