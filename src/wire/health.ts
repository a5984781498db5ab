// Schemas of GET /healthz and GET /readyz (plugins/health.ts).
import { Type } from 'typebox';

export const Health = Type.Object({ status: Type.Literal('ok') }, { title: 'Health' });

export const Readiness = Type.Object(
  {
    status: Type.Union([Type.Literal('ready'), Type.Literal('loading'), Type.Literal('draining')]),
    running: Type.Integer({ description: 'Requests holding a generation slot.' }),
    queued: Type.Integer({ description: 'Requests waiting for a slot.' }),
  },
  { title: 'Readiness' },
);
