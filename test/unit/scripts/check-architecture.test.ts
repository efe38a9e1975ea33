import { readFileSync } from 'node:fs';
import path from 'node:path';
import { checkArchitecture } from '../../../scripts/check-architecture';

const yamlText = readFileSync(path.join(__dirname, '..', '..', '..', 'architecture.yaml'), 'utf8');

describe('architecture check', () => {
  it('passes on the committed architecture.yaml', async () => {
    expect((await checkArchitecture(yamlText)).problems).toEqual([]);
  });

  it('names a route, topic and variable that drifted', async () => {
    const drifted = yamlText
      .replace('    - GET /metrics\n', '    - GET /metricz\n')
      .replace('name: sms.status\n', 'name: sms.statuses\n')
      .replace('  - API_TOKENS\n', '  - ADMIN_TOKEN\n');
    const { problems } = await checkArchitecture(drifted);
    expect(problems).toEqual(
      expect.arrayContaining([
        'route: GET /metrics is in the code but not in architecture.yaml',
        'route: GET /metricz is in architecture.yaml but not in the code',
        'environment variable: API_TOKENS is in the code but not in architecture.yaml',
        'environment variable: ADMIN_TOKEN is in architecture.yaml but not in the code',
      ]),
    );
    expect(problems.some((p) => p.startsWith('topic: sms.statuses'))).toBe(true);
  });
});
