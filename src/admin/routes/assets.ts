import type { FastifyInstance } from 'fastify';
import { STATIC_ASSETS, type AssetName } from '../static-assets.js';

export function assetRoutes(app: FastifyInstance): void {
  for (const name of Object.keys(STATIC_ASSETS) as AssetName[]) {
    const { contentType, body, version } = STATIC_ASSETS[name];
    app.get(`/assets/${name}`, { config: { public: true } }, async (request, reply) => {
      const etag = `"${version}"`;
      // The versioned URL the pages link never changes its content; any other is revalidated.
      const versioned = (request.query as { v?: unknown }).v === version;
      reply.header('cache-control', versioned ? 'public, max-age=31536000, immutable' : 'public, max-age=0, must-revalidate').header('etag', etag);
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type(contentType).send(body);
    });
  }
}
