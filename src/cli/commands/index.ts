// Registers the commands that parts bring (simulator, sandbox, send, dlq).
export {};
