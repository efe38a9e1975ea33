import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { IngressEgressError } from '../errors';

/**
 * Reads a configuration file named by an environment variable (a routing or
 * rules file) and parses it as YAML, which also reads JSON. Either failure is
 * one IE_CONFIG_INVALID naming the variable and the path; validating the
 * document is the caller's.
 */
export function readConfigDocument(variable: string, path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new IngressEgressError('IE_CONFIG_INVALID', `${variable} ${path} cannot be read: ${(err as Error).message}`, {
      cause: err,
    });
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new IngressEgressError(
      'IE_CONFIG_INVALID',
      `${variable} ${path} is not valid YAML or JSON: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
