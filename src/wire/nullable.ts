import { Type, type TSchema } from 'typebox';

/** `schema` or null: OpenAI's optional fields accept an explicit null. */
export const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
