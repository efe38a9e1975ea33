import { rejected } from '../decisions';
import type { Delivery } from '../delivery';
import type { EgressDeps } from '../egress-deps';
import { decide, NEXT, type Stage } from '../stage';

/** Phone, sender, body, media, template and schedule rules: a bad request becomes a rejected outcome. */
export function validateStage(deps: EgressDeps): Stage {
  return {
    name: 'validate',
    leaf: true, // starts no span: its span is not made the active one
    async run(d: Delivery) {
      if (d.message) return NEXT;
      const r = deps.validator.validate(d.request, d.recipient);
      if (!r.ok) return decide(rejected(d, r.code, r.reason, r.twilioErrorCode));
      d.message = r.message;
      return NEXT;
    },
  };
}
