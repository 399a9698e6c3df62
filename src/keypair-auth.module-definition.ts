import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { KeypairAuthModuleExtras, KeypairAuthModuleOptions } from './keypair-auth-options.interface';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: KEYPAIR_AUTH_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<KeypairAuthModuleOptions>({ moduleName: 'KeypairAuth' })
  .setClassMethodName('forRoot')
  .setExtras<Required<KeypairAuthModuleExtras>>(
    {
      isGlobal: true,
      adminApi: false,
      globalGuard: false,
      jwksEndpoint: false,
      signAllResponses: false,
      tokenApi: false,
    },
    (definition, extras) => ({ ...definition, global: extras.isGlobal }),
  )
  .build();
