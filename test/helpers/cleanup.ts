/**
 * Resources register their own cleanup here. What is registered while a test
 * runs is released after that test; what is registered in beforeAll (or at
 * module level) is released after the file. Cleanups run in reverse order, and
 * one failing does not stop the others.
 */
type Cleanup = () => unknown;

const perTest: Cleanup[] = [];
const perFile: Cleanup[] = [];

export function onCleanup(fn: Cleanup): void {
  (expect.getState().currentTestName ? perTest : perFile).push(fn);
}

async function drain(stack: Cleanup[]): Promise<void> {
  const errors: unknown[] = [];
  while (stack.length > 0) {
    try {
      await stack.pop()!();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw errors[0];
}

afterEach(() => drain(perTest));
afterAll(() => drain(perFile));
