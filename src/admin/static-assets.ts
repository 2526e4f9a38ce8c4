import crypto from 'node:crypto';
import { RUN_PANEL_SCRIPT } from './assets/run-panel-script.js';
import { STYLESHEET } from './assets/stylesheet.js';

/**
 * The admin page's static files: public (the sign-in page needs its stylesheet), the same for
 * every user, and free of secrets. Pages link them with a content hash (`?v=`), so a browser
 * may keep them for a year and still fetches the new file right after a deploy.
 */
export interface StaticAsset {
  contentType: string;
  body: string;
  version: string;
}

const asset = (contentType: string, body: string): StaticAsset => ({
  contentType, body, version: crypto.createHash('sha256').update(body).digest('hex').slice(0, 12),
});

export const STATIC_ASSETS = {
  'admin.css': asset('text/css; charset=utf-8', STYLESHEET),
  'admin.js': asset('text/javascript; charset=utf-8', RUN_PANEL_SCRIPT),
} as const;

export type AssetName = keyof typeof STATIC_ASSETS;

export function assetUrl(name: AssetName): string {
  return `/assets/${name}?v=${STATIC_ASSETS[name].version}`;
}
