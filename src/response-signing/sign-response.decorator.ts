import { applyDecorators, UseInterceptors } from '@nestjs/common';
import { SignResponseInterceptor } from './sign-response.interceptor';

/** Signs this route's responses (RFC 9421 §2.4) with the server's newest key. */
export const SignResponse = (): MethodDecorator & ClassDecorator =>
  applyDecorators(UseInterceptors(SignResponseInterceptor));
