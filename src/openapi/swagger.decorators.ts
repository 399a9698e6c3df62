import { optionalSwagger, Swagger } from './optional-swagger';

/**
 * The `@nestjs/swagger` decorators the library's controllers and DTOs use, through one
 * lazy door: with swagger installed they are swagger's own; without it they do nothing
 * (there is no document to describe), so the library loads and runs without the package.
 */

type Decorator = ClassDecorator & MethodDecorator & PropertyDecorator;

const nothing: Decorator = () => undefined;

function lazy<K extends keyof Swagger>(name: K) {
  type Factory = Swagger[K] extends (...args: infer A) => infer D ? (...args: A) => D : never;
  return ((...args: unknown[]) => {
    const swagger = optionalSwagger();
    if (!swagger) return nothing;
    return (swagger[name] as (...a: unknown[]) => unknown)(...args);
  }) as Factory;
}

export const ApiTags = lazy('ApiTags');
export const ApiOperation = lazy('ApiOperation');
export const ApiResponse = lazy('ApiResponse');
export const ApiSecurity = lazy('ApiSecurity');
export const ApiExtraModels = lazy('ApiExtraModels');
export const ApiHeader = lazy('ApiHeader');
export const ApiProperty = lazy('ApiProperty');
export const ApiPropertyOptional = lazy('ApiPropertyOptional');
export const ApiSchema = lazy('ApiSchema');

/** `{ $ref: '#/components/schemas/<name>' }` of a model, by its @ApiSchema name. */
export function schemaRef(model: abstract new (...args: never[]) => unknown): { $ref: string } {
  const swagger = optionalSwagger();
  return { $ref: swagger ? swagger.getSchemaPath(model) : `#/components/schemas/${model.name}` };
}
