import { DELIVERY_ERRORS, TWILIO_REST_ERRORS, twilioError } from '../../src/twilio-errors';

describe('Twilio error table', () => {
  it('has a status and a message for every code, and builds Twilio’s body', () => {
    for (const [code, row] of Object.entries(TWILIO_REST_ERRORS)) {
      expect(row.status).toBeGreaterThanOrEqual(400);
      expect(row.message.length).toBeGreaterThan(0);
      const body = twilioError(Number(code) as keyof typeof TWILIO_REST_ERRORS);
      expect(body).toEqual({
        code: Number(code),
        message: row.message,
        more_info: `https://www.twilio.com/docs/errors/${code}`,
        status: row.status,
      });
    }
  });

  it('knows the delivery errors the status progression can end with', () => {
    for (const code of [30003, 30005, 30006, 30007, 30008, 30036]) expect(DELIVERY_ERRORS[code]).toBeDefined();
  });
});
