import { DynamicModule, Module } from '@nestjs/common';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, MercuriusDriverConfig } from '@nestjs/mercurius';
import { DemoResolver } from './demo.resolver';

/**
 * GraphQL at /graphql, code first with the schema built in memory: Apollo on Express,
 * Mercurius on Fastify. The module's global guard covers the resolvers as it covers the
 * routes; `fieldResolverEnhancers: ['guards']` makes it run on @ResolveField() too.
 */
@Module({})
export class DemoGraphqlModule {
  static forRoot(adapter: 'express' | 'fastify'): DynamicModule {
    const graphql =
      adapter === 'fastify'
        ? GraphQLModule.forRoot<MercuriusDriverConfig>({
            driver: MercuriusDriver,
            path: '/graphql',
            autoSchemaFile: true,
            fieldResolverEnhancers: ['guards'],
          })
        : GraphQLModule.forRoot<ApolloDriverConfig>({
            driver: ApolloDriver,
            path: '/graphql',
            autoSchemaFile: true,
            fieldResolverEnhancers: ['guards'],
            // Apollo sends stack traces unless NODE_ENV=production: a refusal says its code, not our paths.
            includeStacktraceInErrorResponses: false,
          });
    return { module: DemoGraphqlModule, imports: [graphql], providers: [DemoResolver] };
  }
}
