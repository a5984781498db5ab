// Schemas of GET /healthz and GET /readyz (plugins/health.ts).
import { Type } from 'typebox';

export const Health = Type.Object({ status: Type.Literal('ok') }, { title: 'Health' });

export const Readiness = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('loading'), Type.Literal('draining'), Type.Literal('failing')], {
      description: 'ready (200); loading, draining, or failing: repeated verifier faults in the last minute (503).',
    }),
    running: Type.Integer({ description: 'Requests holding a generation slot.' }),
    queued: Type.Integer({ description: 'Requests waiting for a slot.' }),
  },
  { title: 'Readiness' },
);
