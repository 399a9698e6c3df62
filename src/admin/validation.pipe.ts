import { HttpStatus, ValidationError, ValidationPipe } from '@nestjs/common';
import { KeypairRequestException } from '../errors/request-error.exception';

function messages(errors: ValidationError[]): string[] {
  return errors.flatMap((e) => [...Object.values(e.constraints ?? {}), ...messages(e.children ?? [])]);
}

/** Strict DTO validation for the library's own controllers, independent of the app's global pipes. */
export const strictValidation = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors) =>
    new KeypairRequestException('VALIDATION_FAILED', messages(errors).join('; '), HttpStatus.BAD_REQUEST),
});
