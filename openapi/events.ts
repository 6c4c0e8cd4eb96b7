// Query of GET /events.
import { Type } from '@sinclair/typebox';
import { Filters } from './common.js';

export const EventsQuery = Type.Object({
  since: Type.Optional(Type.String({ description: 'Unix seconds (fractions allowed), RFC 3339, or a duration before now' })),
  until: Type.Optional(Type.String()),
  filters: Type.Optional(Filters),
});
