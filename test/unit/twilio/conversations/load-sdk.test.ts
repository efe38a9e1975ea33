describe('conversationsSdk', () => {
  afterEach(() => {
    jest.resetModules();
    jest.dontMock('@twilio/conversations');
  });

  it('loads the SDK and leaves the native JSON.stringify in place', () => {
    const native = JSON.stringify;
    jest.isolateModules(() => {
      const { conversationsSdk } = jest.requireActual<typeof import('../../../../src/twilio/conversations/load-sdk')>(
        '../../../../src/twilio/conversations/load-sdk',
      );
      expect(typeof conversationsSdk().Client).toBe('function');
    });
    expect(JSON.stringify).toBe(native);
    expect(JSON.stringify({ a: [1, 'é', null] })).toBe('{"a":[1,"é",null]}');
  });

  it('restores JSON.stringify even when loading the SDK throws after replacing it', () => {
    const native = JSON.stringify;
    jest.doMock('@twilio/conversations', () => {
      JSON.stringify = () => 'polyfilled';
      throw new Error('broken build');
    });
    jest.isolateModules(() => {
      const { conversationsSdk } = jest.requireActual<typeof import('../../../../src/twilio/conversations/load-sdk')>(
        '../../../../src/twilio/conversations/load-sdk',
      );
      expect(() => conversationsSdk()).toThrow('broken build');
    });
    expect(JSON.stringify).toBe(native);
  });

  it('is not loaded with the connector and CLI modules (only when a Conversations session starts)', () => {
    jest.doMock('@twilio/conversations', () => {
      throw new Error('@twilio/conversations was loaded');
    });
    jest.isolateModules(() => {
      expect(() => jest.requireActual('../../../../src/twilio/create-twilio-connector')).not.toThrow();
      expect(() => jest.requireActual('../../../../src/cli/cli')).not.toThrow();
    });
  });
});
